import { PartialType } from '@nestjs/swagger';
import { ReplaceUserDto } from './replace-user.dto';

/** PATCH: any subset of the fields of PUT. A field sent as null is validated (and refused), not skipped. */
export class UpdateUserDto extends PartialType(ReplaceUserDto, { skipNullProperties: false }) {}
