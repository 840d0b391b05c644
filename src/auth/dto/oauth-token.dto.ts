import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

export const GRANT_TYPES = ['password', 'refresh_token'] as const;

/** RFC 6749 §4.3 and §6 token request, as Swagger UI's Authorize dialog sends it. */
export class OAuthTokenRequest {
  @ApiProperty({ enum: GRANT_TYPES })
  @IsString()
  @MaxLength(32)
  grant_type: string;

  @ApiPropertyOptional({ maxLength: 254, format: 'email', description: 'The email (password grant)' })
  @IsOptional()
  @IsString()
  @MaxLength(254)
  username?: string;

  @ApiPropertyOptional({ maxLength: 128, format: 'password', description: 'password grant' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  password?: string;

  @ApiPropertyOptional({ maxLength: 512, pattern: STRING_PATTERNS.opaqueToken, description: 'refresh_token grant' })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refresh_token?: string;

  @ApiPropertyOptional({ maxLength: 1024, pattern: STRING_PATTERNS.text, description: 'Accepted and ignored' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  scope?: string;

  @ApiPropertyOptional({
    maxLength: 256,
    pattern: STRING_PATTERNS.text,
    description: 'Accepted and ignored (public client)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_id?: string;

  @ApiPropertyOptional({
    maxLength: 256,
    pattern: STRING_PATTERNS.text,
    description: 'Accepted and ignored (public client)',
  })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  client_secret?: string;
}

export class OAuthTokenResponse {
  @ApiProperty({ maxLength: 4096, pattern: STRING_PATTERNS.jwt, description: 'A JWT access token' })
  access_token: string;

  @ApiProperty({ enum: ['bearer'] })
  token_type: 'bearer';

  @ApiProperty({ minimum: 1 })
  expires_in: number;

  @ApiProperty({ maxLength: 512, pattern: STRING_PATTERNS.opaqueToken, description: 'Opaque; single use' })
  refresh_token: string;
}

export class OAuthErrorResponse {
  @ApiProperty({
    enum: ['invalid_request', 'invalid_grant', 'unsupported_grant_type', 'invalid_client', 'temporarily_unavailable'],
  })
  error: string;

  @ApiProperty({ maxLength: 1024, pattern: STRING_PATTERNS.text })
  error_description: string;
}
