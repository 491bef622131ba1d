import { BadRequestException, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ORDER_ID } from './ledger.repository';
import { PaymentResult, PaymentsService } from './payments.service';

@Controller('orders')
export class PaymentsController {
  constructor(private readonly payments: PaymentsService) {}

  @Post(':id/pay')
  @HttpCode(200)
  pay(@Param('id') id: string): Promise<PaymentResult> {
    if (!ORDER_ID.test(id)) throw new BadRequestException('order id: expected 1 to 64 letters, digits, "-" or "_"');
    return this.payments.pay(id);
  }
}
