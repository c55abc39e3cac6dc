import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, Length, MaxLength, NotEquals } from 'class-validator';
import { IsSendableText } from '../../common/http/index.js';
import { AVATAR_URL_MAX_LENGTH, NICKNAME_MAX_LENGTH } from './user.limits.js';
import { WECHAT_PLACEHOLDER_NICKNAME } from './wechat-placeholder.js';

export class UpdateMeDto {
  @ApiPropertyOptional({
    description: 'checked by WeChat content security before it is stored (42201 when risky)',
  })
  @IsOptional()
  @IsString()
  @Length(1, NICKNAME_MAX_LENGTH)
  @IsSendableText()
  @NotEquals(WECHAT_PLACEHOLDER_NICKNAME, {
    message: `nickname must be the user's own, not WeChat's placeholder "${WECHAT_PLACEHOLDER_NICKNAME}"`,
  })
  nickname?: string;

  @ApiPropertyOptional({
    description:
      'an https URL: upload the file wx.chooseAvatar gives (a temporary wxfile:// or http://tmp/ path) to your storage first and send its URL',
  })
  @IsOptional()
  @IsString()
  @MaxLength(AVATAR_URL_MAX_LENGTH)
  @IsUrl(
    { protocols: ['https'], require_protocol: true, require_tld: true },
    {
      message:
        'avatarUrl must be an https URL (a chooseAvatar temporary path cannot be stored: upload the file and send its URL)',
    },
  )
  avatarUrl?: string;
}
