import { Module } from '@nestjs/common';
import { CursorPaginator } from './cursor-paginator';

@Module({ providers: [CursorPaginator], exports: [CursorPaginator] })
export class PaginationModule {}
