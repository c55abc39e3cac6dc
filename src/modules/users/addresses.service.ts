import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { AppError } from '../../common/errors/index.js';
import { ConsistencyService } from '../../infra/consistency/index.js';
import { Transactions } from '../../infra/transactions/index.js';
import { Address } from './address.entity.js';
import { MAX_ADDRESSES, type AddressDto, type AddressFieldsDto } from './address.dto.js';
import {
  toAddressView,
  toDeliveryAddress,
  type AddressList,
  type AddressView,
  type DeletedAddress,
  type DeliveryAddress,
} from './address.view.js';
import { lockUserRow } from './user-lock.js';

const fieldsOf = (dto: AddressFieldsDto) => ({
  name: dto.name,
  phone: dto.phone,
  province: dto.province,
  city: dto.city,
  district: dto.district,
  detail: dto.detail,
  postalCode: dto.postalCode ?? null,
});

/**
 * The address book of each user. Every write locks the user's row first, so
 * the writes of one book queue up: the count limit and "exactly one default"
 * hold however many requests race, on any number of replicas.
 */
@Injectable()
export class AddressesService {
  constructor(
    private readonly transactions: Transactions,
    private readonly consistency: ConsistencyService,
    @InjectRepository(Address) private readonly addresses: Repository<Address>,
  ) {}

  async list(userId: number): Promise<AddressList> {
    const rows = await this.addresses.find({
      where: { userId },
      order: { isDefault: 'DESC', id: 'DESC' },
    });
    return rows.map(toAddressView);
  }

  /** A new address; the first of a book is its default. 409 past MAX_ADDRESSES. */
  async create(userId: number, dto: AddressDto): Promise<AddressView> {
    const view = await this.transactions.run(async (m) => {
      await lockUserRow(m, userId);
      const count = await m.countBy(Address, { userId });
      if (count >= MAX_ADDRESSES) {
        throw new AppError('CONFLICT', `an address book holds at most ${MAX_ADDRESSES} addresses`);
      }
      const isDefault = count === 0 || dto.isDefault === true;
      if (isDefault) await this.clearDefault(m, userId);
      const row = { userId, ...fieldsOf(dto), isDefault };
      const inserted = await m.insert(Address, row);
      return toAddressView(
        await m.findOneByOrFail(Address, { id: Number(inserted.identifiers[0].id) }),
      );
    });
    await this.consistency.markWrite(userId);
    return view;
  }

  /** Replaces the user's address `id`; `isDefault: true` makes it the default. */
  async replace(userId: number, id: number, dto: AddressDto): Promise<AddressView> {
    const view = await this.transactions.run(async (m) => {
      await lockUserRow(m, userId);
      const address = await m.findOneBy(Address, { id, userId });
      if (!address) throw new AppError('NOT_FOUND', 'address not found');
      const isDefault = Boolean(address.isDefault) || dto.isDefault === true;
      if (isDefault && !address.isDefault) await this.clearDefault(m, userId);
      await m.update(Address, { id, userId }, { ...fieldsOf(dto), isDefault });
      return toAddressView(await m.findOneByOrFail(Address, { id }));
    });
    await this.consistency.markWrite(userId);
    return view;
  }

  /** Removes it; when it was the default, the newest remaining address becomes the default. */
  async remove(userId: number, id: number): Promise<DeletedAddress> {
    await this.transactions.run(async (m) => {
      await lockUserRow(m, userId);
      const address = await m.findOneBy(Address, { id, userId });
      if (!address) throw new AppError('NOT_FOUND', 'address not found');
      await m.delete(Address, { id, userId });
      if (!address.isDefault) return;
      const next = await m.findOne(Address, { where: { userId }, order: { id: 'DESC' } });
      if (next) await m.update(Address, { id: next.id }, { isDefault: true });
    });
    await this.consistency.markWrite(userId);
    return { id, deleted: true };
  }

  /**
   * The user's address `id` as an order copies it, read through the caller's
   * transaction; another user's address is not found.
   */
  async copyOf(m: EntityManager, userId: number, id: number): Promise<DeliveryAddress> {
    const address = await m.findOneBy(Address, { id, userId });
    if (!address) throw new AppError('NOT_FOUND', 'address not found');
    return toDeliveryAddress(address);
  }

  private async clearDefault(m: EntityManager, userId: number): Promise<void> {
    await m.update(Address, { userId, isDefault: true }, { isDefault: false });
  }
}
