import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { SubscribeCredits, type SubscriptionView } from './subscribe-credits.service.js';
import { AcceptSubscriptionsDto } from './subscriptions.dto.js';

@ApiTags('users')
@Controller('users/me/subscriptions')
export class SubscriptionsController {
  constructor(private readonly credits: SubscribeCredits) {}

  /** Records what the user accepted in wx.requestSubscribeMessage: one message per acceptance. */
  @Post()
  @Authenticated()
  @HttpCode(200)
  accept(
    @CurrentUser() user: AuthUser,
    @Body() body: AcceptSubscriptionsDto,
  ): Promise<{ items: SubscriptionView[] }> {
    return this.credits.accept(user.userId, body.accepted).then((items) => ({ items }));
  }
}
