import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, AuthUser, CurrentActor, CurrentUser } from '../common/auth/auth-user';
import { AdminOnly } from '../common/decorators/admin-only.decorator';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQuery } from './dto/list-users.query';
import { ReplaceUserDto } from './dto/replace-user.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserResponse } from './user.response';
import { UsersService } from './users.service';
import { apiPath } from '../common/http/api-path';

@ApiTags('users')
@ApiErrors(400)
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @AdminOnly()
  @ApiOperation({
    summary: 'List users (admin)',
    description:
      'Platform admins only (anyone else, API keys included, gets 403). Active accounts, filtered by `q` (name or email contains it, case-insensitive) and `role`, sorted by `sort` (newest first by default) and paged by cursor.',
  })
  @ApiListEnvelope(UserResponse)
  list(@Query() query: ListUsersQuery): Promise<Page<UserResponse>> {
    return this.users.list(query);
  }

  @Post()
  @AdminOnly()
  @Created((user: UserResponse) => apiPath('users', user.id))
  @ApiOperation({
    summary: 'Create a user (admin)',
    description:
      'Platform admins only. Creates an account with this email and password, as a `user` unless `role` says otherwise; no session is started. 409 if an active account already has the email.',
  })
  @ApiEnvelope(UserResponse, HttpStatus.CREATED, 'Created; Location points at the user')
  @ApiErrors(409)
  async create(@Body() body: CreateUserDto): Promise<UserResponse> {
    return UserResponse.from(await this.users.create(body));
  }

  @Get(':id')
  @ApiOperation({
    summary: 'Get a user (self or admin)',
    description:
      'Your own account, or any account for a platform admin; to anyone else, an id not their own is a 404, as if it did not exist.',
  })
  @ApiEnvelope(UserResponse)
  @ApiErrors(404)
  get(@CurrentUser() caller: AuthUser, @UuidParam('id') id: string): Promise<UserResponse> {
    return this.users.get(caller, id);
  }

  @Put(':id')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Replace a user (self or admin; role by admin only)',
    description:
      "`name` and `email` (409 if another account has it), and `role` from a platform admin only: sending `role` without being one is a 403. A new role ends the user's sessions, so that tokens with the old role stop working. Send the ETag in `If-Match` to get a 412 instead of overwriting a newer change.",
  })
  @ApiEnvelope(UserResponse)
  @ApiErrors(403, 404, 409)
  replace(
    @CurrentUser() caller: AuthUser,
    @UuidParam('id') id: string,
    @Body() body: ReplaceUserDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<UserResponse> {
    return this.users.update(caller, id, body, expected);
  }

  @Patch(':id')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Change some fields of a user (self or admin; role by admin only)',
    description:
      "Any subset of the fields of PUT, with the same rules: `role` only from a platform admin (403), 409 for an email another account has, a new role ends the user's sessions. `If-Match` guards against lost updates (412).",
  })
  @ApiEnvelope(UserResponse)
  @ApiErrors(403, 404, 409)
  update(
    @CurrentUser() caller: AuthUser,
    @UuidParam('id') id: string,
    @Body() body: UpdateUserDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<UserResponse> {
    return this.users.update(caller, id, body, expected);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete a user (self or admin): sign-in disabled, sessions revoked',
    description:
      'The account leaves every organization (each departure audited, and sent to subscribed webhooks, as `membership.deleted`), its sessions end, its avatar is removed and its email is free again. 409 if it is the last owner of an organization: make someone else owner first. `If-Match` applies (412).',
  })
  @ApiNoContent('Deleted')
  @ApiErrors(404, 409)
  async remove(
    @CurrentUser() caller: AuthUser,
    @CurrentActor() actor: Actor,
    @UuidParam('id') id: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.users.delete(caller, actor, id, expected);
  }
}
