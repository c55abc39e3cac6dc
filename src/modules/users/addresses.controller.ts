import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer, parseId } from '../../common/http/index.js';
import { AddressDto } from './address.dto.js';
import {
  addressList,
  addressView,
  deletedAddress,
  type AddressList,
  type AddressView,
  type DeletedAddress,
} from './address.view.js';
import { AddressesService } from './addresses.service.js';

/** The signed-in user's delivery addresses; another user's address is a 404. */
@ApiTags('users')
@Controller('users/me/addresses')
@Authenticated()
export class AddressesController {
  constructor(private readonly addresses: AddressesService) {}

  @ApiOperation({ summary: 'List my delivery addresses, default first' })
  @Get()
  @ApiAnswer(addressList)
  list(@CurrentUser() user: AuthUser): Promise<AddressList> {
    return this.addresses.list(user.userId);
  }

  @ApiOperation({ summary: 'Add a delivery address (the first one is the default)' })
  @Post()
  @ApiAnswer(addressView, {
    status: 201,
    description: 'the new address',
    errors: ['CONFLICT'],
  })
  create(@CurrentUser() user: AuthUser, @Body() body: AddressDto): Promise<AddressView> {
    return this.addresses.create(user.userId, body);
  }

  @ApiOperation({ summary: 'Replace one of my delivery addresses' })
  @Put(':id')
  @ApiAnswer(addressView)
  replace(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Body() body: AddressDto,
  ): Promise<AddressView> {
    return this.addresses.replace(user.userId, parseId(id, 'address'), body);
  }

  @ApiOperation({ summary: 'Remove one of my delivery addresses (orders keep their copy)' })
  @Delete(':id')
  @HttpCode(200)
  @ApiAnswer(deletedAddress)
  remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeletedAddress> {
    return this.addresses.remove(user.userId, parseId(id, 'address'));
  }
}
