import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, Length, MaxLength } from 'class-validator';

export class UpdateMeDto {
  @IsOptional()
  @IsString()
  @Length(1, 32)
  nickname?: string;

  @ApiPropertyOptional({ description: 'an https URL' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @IsUrl({ protocols: ['https'], require_protocol: true, require_tld: true })
  avatarUrl?: string;
}
