import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, Length, MaxLength } from 'class-validator';

export class UpdateMeDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 32 })
  @IsOptional()
  @IsString()
  @Length(1, 32)
  nickname?: string;

  @ApiPropertyOptional({ description: 'an https URL', maxLength: 512 })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @IsUrl({ protocols: ['https'], require_protocol: true, require_tld: true })
  avatarUrl?: string;
}
