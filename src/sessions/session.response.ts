import { ApiProperty } from '@nestjs/swagger';
import type { ActiveSession } from './sessions.repository';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

/** One of the caller's signed-in sessions (GET /auth/sessions). */
export class SessionResponse {
  @ApiProperty({
    format: 'uuid',
    maxLength: 36,
    example: '0f8b7a52-3c1e-4d5f-9a6b-2e7c8d9f0a1b',
    description: 'The session id: the `sid` claim of its access tokens',
  })
  id: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z', description: 'Signed in' })
  createdAt: string;

  @ApiProperty({
    format: 'date-time',
    maxLength: 30,
    example: '2026-11-23T10:42:17.512Z',
    description:
      'Last sign-in, refresh or request with one of its access tokens; roughly current (each instance records requests every 30 s)',
  })
  lastUsedAt: string;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 512,
    pattern: STRING_PATTERNS.text,
    example:
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
    description: 'The User-Agent header at sign-in (at most 512 characters), or null',
  })
  userAgent: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 64,
    pattern: STRING_PATTERNS.ipAddress,
    example: '203.0.113.7',
    description:
      'The client address at sign-in (IPv4 or IPv6 as the server saw it, behind TRUST_PROXY the forwarded one), or null',
  })
  ip: string | null;

  @ApiProperty({ example: true, description: 'True for the session of the access token making this request' })
  current: boolean;

  static from(session: ActiveSession, currentSessionId: string, unrecordedUse: Date | undefined): SessionResponse {
    const lastUsedAt = unrecordedUse && unrecordedUse > session.lastUsedAt ? unrecordedUse : session.lastUsedAt;
    return {
      id: session.id,
      createdAt: session.createdAt.toISOString(),
      lastUsedAt: lastUsedAt.toISOString(),
      userAgent: session.userAgent,
      ip: session.ip,
      current: session.id === currentSessionId,
    };
  }
}
