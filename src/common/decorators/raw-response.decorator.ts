import { SetMetadata } from '@nestjs/common';
import { RAW_RESPONSE } from './metadata-keys';

/** The handler's result is sent as it is, outside the envelope (health, metrics, OAuth2 token). */
export const RawResponse = (): MethodDecorator & ClassDecorator => SetMetadata(RAW_RESPONSE, true);
