export const IS_PUBLIC = 'tasklane:isPublic';
export const ADMIN_ONLY = 'tasklane:adminOnly';
export const RAW_RESPONSE = 'tasklane:rawResponse';
export const CONSUMES = 'tasklane:consumes';
export const API_KEYS = 'tasklane:apiKeys';
