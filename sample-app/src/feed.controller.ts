import { Controller, Get } from '@nestjs/common';
import { LockerService } from 'nest-locker';

/** GET /feed/owner: who owns the feed now, read from the server (any instance answers the same). */
@Controller('feed')
export class FeedController {
  constructor(private readonly locker: LockerService) {}

  @Get('owner')
  async owner(): Promise<{ owner: string | null; url?: string; term?: string }> {
    const leader = await this.locker.election('feed-owner').leader();
    if (!leader) return { owner: null };
    const [owner, url] = (leader.value ?? '').split(' ');
    return { owner, url, term: leader.term.toString() };
  }
}
