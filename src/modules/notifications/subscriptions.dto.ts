import { ApiProperty } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayUnique, IsArray, IsString, Length, Matches } from 'class-validator';

// wx.requestSubscribeMessage asks for at most three templates at a time;
// a little room for clients that merge two prompts.
const MAX_ACCEPTED = 10;

export class AcceptSubscriptionsDto {
  @ApiProperty({
    type: [String],
    maxItems: MAX_ACCEPTED,
    description:
      'template ids the user accepted in wx.requestSubscribeMessage (the keys answered "accept"); each adds one message of that template',
    example: ['x7Kp2Qw9Lm4Nz8Rt5Vb1Yc6Hd3Fg0JsAeUiOoPlMkNn'],
  })
  @IsArray()
  @ArrayMaxSize(MAX_ACCEPTED)
  @ArrayUnique({ message: 'accepted must not list a template twice' })
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  @Matches(/^[A-Za-z0-9_-]+$/, {
    each: true,
    message: 'each value in accepted must be a template id',
  })
  accepted: string[];
}
