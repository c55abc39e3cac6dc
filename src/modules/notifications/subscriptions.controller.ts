import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser, type AuthUser } from '../../common/auth/index.js';
import { ApiAnswer } from '../../common/http/index.js';
import { SubscribeCredits } from './subscribe-credits.service.js';
import { subscriptionList, type SubscriptionList } from './subscription.view.js';
import { AcceptSubscriptionsDto } from './subscriptions.dto.js';

@ApiTags('users')
@Controller('users/me/subscriptions')
export class SubscriptionsController {
  constructor(private readonly credits: SubscribeCredits) {}

  /** Records what the user accepted in wx.requestSubscribeMessage: one message per acceptance. */
  @ApiOperation({ summary: 'Record accepted subscribe messages' })
  @Post()
  @Authenticated()
  @HttpCode(200)
  @ApiAnswer(subscriptionList)
  accept(
    @CurrentUser() user: AuthUser,
    @Body() body: AcceptSubscriptionsDto,
  ): Promise<SubscriptionList> {
    return this.credits.accept(user.userId, body.accepted).then((items) => ({ items }));
  }
}
