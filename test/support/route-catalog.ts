import { expectData } from './envelope';
import { orgApi } from './orgs-helpers';
import { addMember, client } from './pt-helpers';
import type { TestApp } from './test-app';
import { PNG, sendFile, TEXT } from './upload-helpers';
import { createAdmin, login, registerUser, SignedInUser } from './users';

// Every operation of the API, read from its own OpenAPI document (so that a new route is covered
// as soon as it is documented), and one of each resource for their path parameters.

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface SchemaObject {
  type?: string;
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  enum?: unknown[];
  format?: string;
  maxLength?: number;
  maxItems?: number;
  $ref?: string;
  allOf?: SchemaObject[];
}

export interface Operation {
  method: Method;
  /** The OpenAPI path, `/api/v1/tasks/{taskId}`. */
  path: string;
  /** Request body media types: application/json, application/x-www-form-urlencoded, multipart/form-data. */
  bodyTypes: string[];
  /** The body's properties, references resolved (JSON and form bodies). */
  bodyProperties: Record<string, SchemaObject>;
  query: { name: string; schema: SchemaObject }[];
  /** `METHOD /path`, for messages. */
  label: string;
}

interface Document {
  paths: Record<string, Record<string, RawOperation>>;
  components: { schemas: Record<string, SchemaObject> };
}
interface RawOperation {
  parameters?: { name: string; in: string; schema: SchemaObject }[];
  requestBody?: { content: Record<string, { schema: SchemaObject }> };
}

function resolve(document: Document, schema: SchemaObject): SchemaObject {
  if (schema.$ref) return resolve(document, document.components.schemas[schema.$ref.split('/').pop()!]);
  if (schema.allOf?.length === 1) return resolve(document, schema.allOf[0]);
  return schema;
}

export async function operations(t: TestApp): Promise<Operation[]> {
  const document = (await t.http().get('/docs/openapi.json').expect(200)).body as Document;
  const list: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(methods)) {
      const content = raw.requestBody?.content ?? {};
      const bodyTypes = Object.keys(content);
      const structured = content['application/json'] ?? content['application/x-www-form-urlencoded'];
      const bodySchema = structured ? resolve(document, structured.schema) : undefined;
      const bodyProperties = Object.fromEntries(
        Object.entries(bodySchema?.properties ?? {}).map(([name, schema]) => [name, resolve(document, schema)]),
      );
      const query = (raw.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => ({ name: p.name, schema: resolve(document, p.schema) }));
      list.push({
        method: method as Method,
        path,
        bodyTypes,
        bodyProperties,
        query,
        label: `${method.toUpperCase()} ${path}`,
      });
    }
  }
  return list;
}

/** One of everything, for path parameters; the admin owns the org and is a platform admin. */
export interface World {
  admin: SignedInUser;
  member: SignedInUser;
  /** Path parameter → id, by the names the OpenAPI document uses. */
  ids: Record<string, string>;
}

export async function createWorld(t: TestApp): Promise<World> {
  const admin = await createAdmin(t);
  const member = await registerUser(t, { name: 'World Member' });
  const orgId = (await orgApi(t).createOrg(admin, { name: 'World Org' })).id;
  await addMember(t, orgId, admin, member, 'member');
  const as = client(t, admin);
  const projectId = expectData<{ id: string }>(
    await as.post(`/api/v1/orgs/${orgId}/projects`, { key: 'WORLD', name: 'World' }),
    201,
  ).id;
  const taskId = expectData<{ id: string }>(
    await as.post(`/api/v1/projects/${projectId}/tasks`, { title: 'World task' }),
    201,
  ).id;
  const commentId = expectData<{ id: string }>(
    await as.post(`/api/v1/tasks/${taskId}/comments`, { body: 'Hello' }),
    201,
  ).id;
  const upload = await sendFile(t, 'post', `/api/v1/tasks/${taskId}/attachments`, admin, TEXT, 'notes.txt');
  const attachmentId = expectData<{ id: string }>(upload, 201).id;
  expectData(await sendFile(t, 'put', `/api/v1/users/${admin.id}/avatar`, admin, PNG, 'me.png'), 200);
  const invitationId = expectData<{ id: string }>(
    await as.post(`/api/v1/orgs/${orgId}/invitations`, { email: 'world-invitee@example.com', role: 'viewer' }),
    201,
  ).id;
  const apiKeyId = expectData<{ id: string }>(
    await as.post(`/api/v1/orgs/${orgId}/api-keys`, { name: 'World key', role: 'viewer' }),
    201,
  ).id;
  // Pointed at a port where nothing listens, subscribed to an event the tests never cause: only its ping is sent.
  const webhookId = expectData<{ id: string }>(
    await as.post(`/api/v1/orgs/${orgId}/webhooks`, { url: 'http://127.0.0.1:9/world', events: ['org.deleted'] }),
    201,
  ).id;
  const deliveryId = expectData<{ id: string }>(await as.post(`/api/v1/webhooks/${webhookId}/ping`, {}), 202).id;
  // Another session of the admin's (the `sid` of its access token): ending it leaves the one the tests use.
  const spare = await login(t, admin.email, admin.password);
  const claims = JSON.parse(Buffer.from(spare.accessToken.split('.')[1], 'base64url').toString()) as { sid: string };
  return {
    admin,
    member,
    ids: {
      id: admin.id,
      userId: member.id,
      orgId,
      projectId,
      taskId,
      commentId,
      attachmentId,
      invitationId,
      webhookId,
      deliveryId,
      apiKeyId,
      sessionId: claims.sid,
    },
  };
}

/** The operation's path with its parameters filled from `ids`. */
export function fillPath(path: string, ids: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const id = ids[name];
    if (!id) throw new Error(`No id for the path parameter ${name} of ${path}`);
    return id;
  });
}
