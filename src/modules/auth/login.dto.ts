import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { IsSendableText } from '../../common/http/index.js';

export class LoginDto {
  @ApiProperty({ description: 'the code from wx.login()' })
  @IsString()
  @Length(1, 128)
  @IsSendableText()
  code: string;

  @ApiPropertyOptional({ description: 'encrypted user profile (fills nickname and avatar)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(8192)
  encryptedData?: string;

  @ApiPropertyOptional({ description: 'IV of encryptedData; required with it' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  iv?: string;

  @ApiPropertyOptional({ description: 'rawData of wx.getUserInfo; verified with signature' })
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  rawData?: string;

  @ApiPropertyOptional({ description: 'sha1(rawData + session_key), hex' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  signature?: string;

  @ApiPropertyOptional({ description: 'free-form device label shown in GET /auth/sessions' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  device?: string;
}

export class RefreshDto {
  @ApiProperty()
  @IsString()
  @Length(1, 256)
  refreshToken: string;
}

export class PhoneDto {
  @ApiProperty({ description: 'the code from the getPhoneNumber button' })
  @IsString()
  @Length(1, 128)
  @IsSendableText()
  code: string;
}
