// Comments (API.md §10) as the tests read them from response bodies: keys in sorted order.

export const COMMENT_KEYS = ['authorId', 'body', 'createdAt', 'id', 'taskId', 'updatedAt', 'version'];

export interface CommentBody {
  id: string;
  taskId: string;
  authorId: string;
  body: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const taskCommentsUrl = (taskId: string): string => `/api/v1/tasks/${taskId}/comments`;
export const commentUrl = (commentId: string): string => `/api/v1/comments/${commentId}`;

/** Oldest first, the id breaking ties: the default order of a task's comments. */
export function byCreatedAtThenId(a: CommentBody, b: CommentBody): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
