import { z } from 'zod';
import { apiView, rowId } from '../../common/http/index.js';
import type { Address } from './address.entity.js';
import { MAX_ADDRESSES } from './address.dto.js';

const fields = {
  name: z.string().meta({ example: 'Zhang San' }),
  phone: z.string().meta({ example: '13800138000' }),
  province: z.string().meta({ example: 'Guangdong' }),
  city: z.string().meta({ example: 'Guangzhou' }),
  district: z.string().meta({ example: 'Haizhu' }),
  detail: z.string().meta({ example: 'No. 1 Xingang Road' }),
  postalCode: z.string().nullable().meta({ example: '510000' }),
};

/** A delivery address as an order keeps it (its own copy). */
export const deliveryAddressView = apiView('DeliveryAddressView', z.strictObject(fields));
export type DeliveryAddress = z.infer<typeof deliveryAddressView>;

export const addressView = apiView(
  'AddressView',
  z.strictObject({ id: rowId(), ...fields, isDefault: z.boolean() }),
);
export type AddressView = z.infer<typeof addressView>;

/** The book, default first, then newest first. */
export const addressList = apiView('AddressList', z.array(addressView).max(MAX_ADDRESSES));
export type AddressList = z.infer<typeof addressList>;

export const deletedAddress = apiView(
  'DeletedAddress',
  z.strictObject({ id: rowId(), deleted: z.literal(true) }),
);
export type DeletedAddress = z.infer<typeof deletedAddress>;

export function toAddressView(a: Address): AddressView {
  return { id: a.id, ...toDeliveryAddress(a), isDefault: Boolean(a.isDefault) };
}

export function toDeliveryAddress(a: DeliveryAddress): DeliveryAddress {
  return {
    name: a.name,
    phone: a.phone,
    province: a.province,
    city: a.city,
    district: a.district,
    detail: a.detail,
    postalCode: a.postalCode,
  };
}
