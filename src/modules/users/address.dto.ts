import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString, Length, Matches } from 'class-validator';
import { IsSendableText } from '../../common/http/index.js';

/** An address book holds at most this many entries (a 21st is a 409). */
export const MAX_ADDRESSES = 20;

/**
 * A mainland mobile number (`13800138000`, optionally `+86`), or a landline
 * with its area code (`010-12345678`, `0755 8888 8888` is not accepted:
 * digits and at most the hyphens shown), optionally with an extension
 * (`021-87654321-123`).
 */
export const PHONE = /^(?:(?:\+86)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$/;
export const POSTAL_CODE = /^\d{6}$/;
// Something to read, not only spaces.
const NOT_BLANK = /\S/;
const notBlank = { message: '$property must not be blank' };

/** The fields `wx.chooseAddress` returns, under our names; also the order's copy. */
export class AddressFieldsDto {
  @ApiProperty({ description: 'the consignee (`userName`)', example: 'Zhang San' })
  @IsString()
  @Length(1, 32)
  @Matches(NOT_BLANK, notBlank)
  @IsSendableText()
  name: string;

  @ApiProperty({
    description:
      '`telNumber`: a mainland mobile number (optionally +86) or a landline with its area code and an optional extension',
    example: '13800138000',
  })
  @IsString()
  @Matches(PHONE, {
    message:
      'phone must be a mainland mobile number (13800138000, optionally +86) or a landline with its area code (010-12345678, optionally -extension)',
  })
  phone: string;

  @ApiProperty({ description: '`provinceName`', example: 'Guangdong' })
  @IsString()
  @Length(1, 32)
  @Matches(NOT_BLANK, notBlank)
  @IsSendableText()
  province: string;

  @ApiProperty({ description: '`cityName`', example: 'Guangzhou' })
  @IsString()
  @Length(1, 32)
  @Matches(NOT_BLANK, notBlank)
  @IsSendableText()
  city: string;

  @ApiProperty({
    description: '`countyName`; may be empty (cities without counties)',
    example: 'Haizhu',
  })
  @IsString()
  @Length(0, 32)
  @IsSendableText()
  district: string;

  @ApiProperty({ description: '`detailInfo`', example: 'No. 1 Xingang Road' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, notBlank)
  @IsSendableText()
  detail: string;

  @ApiPropertyOptional({ description: '`postalCode`: six digits', example: '510000' })
  @IsOptional()
  @IsString()
  @Matches(POSTAL_CODE, { message: 'postalCode must be six digits' })
  postalCode?: string;
}

/** POST and PUT /users/me/addresses(/:id). */
export class AddressDto extends AddressFieldsDto {
  @ApiPropertyOptional({
    description:
      'true makes it the default; the first address is the default anyway, and a default stays one until another becomes it',
  })
  @IsOptional()
  @IsBoolean()
  isDefault?: boolean;
}
