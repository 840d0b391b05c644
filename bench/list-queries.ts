import type { ScaleData } from './seed-scale';

/** One documented list request, measured by bench/data-scale.ts and its plan pinned by test/query-plans.e2e-spec.ts. */
export interface ListRequest {
  name: string;
  path: string;
  /** The big table the list reads. */
  table: 'tasks' | 'audit_events' | 'comments' | 'memberships' | 'projects';
  /** Also measured at a deep page (the 100th: 99 pages walked with nextCursor). */
  deep?: boolean;
  /**
   * The indexes a good plan reads the rows from (any of them), at the sizes of the plan test and
   * the benchmark; empty: too small a table for the planner to care (a Seq Scan is fine).
   */
  indexes: string[];
  /**
   * The plan may sort what it found: a selective filter read through a bitmap (a label, a word, an
   * assignee), or an index that orders all but the tie-breaker. Otherwise the index must give the
   * rows in the list's order (no Sort node), so that a page reads only its own rows.
   */
  sorts?: boolean;
}

const q = (params: Record<string, string>) => new URLSearchParams(params).toString().replace(/%2C/g, ',');

/** Every documented list and filter of the API (contract §§7–10, 12), on the data of seedScale. */
export function listRequests(d: ScaleData): ListRequest[] {
  const project = `/api/v1/projects/${d.bigProjectId}/tasks`;
  const org = `/api/v1/orgs/${d.orgId}/tasks`;
  const audit = `/api/v1/orgs/${d.orgId}/audit-events`;
  const tasks = (
    name: string,
    base: string,
    params: Record<string, string>,
    indexes: string[],
    deep = false,
    sorts = false,
  ): ListRequest => ({
    name,
    path: Object.keys(params).length ? `${base}?${q(params)}` : base,
    table: 'tasks' as const,
    deep,
    indexes,
    sorts,
  });
  const sortIndex: Record<string, string> = {
    createdAt: 'created_idx',
    updatedAt: 'updated_idx',
    dueDate: 'due_idx',
    '-dueDate': 'due_desc_idx',
    priority: 'priority_idx',
    number: 'number_key',
  };
  const requests: ListRequest[] = [];
  for (const [scope, base, prefix] of [
    ['project', project, 'tasks_project'],
    ['org', org, 'tasks_org'],
  ] as const) {
    const index = (sort: string) => {
      const name = sortIndex[sort] ?? sortIndex[sort.replace('-', '')];
      if (name === 'number_key') return scope === 'project' ? 'tasks_project_number_key' : 'tasks_org_number_idx';
      return `${prefix}_${name}`;
    };
    for (const sort of ['-createdAt', 'createdAt', '-updatedAt', 'updatedAt', 'dueDate', '-dueDate']) {
      requests.push(tasks(`${scope}: sort ${sort}`, base, sort === '-createdAt' ? {} : { sort }, [index(sort)], true));
    }
    for (const sort of ['priority', '-priority', 'number', '-number']) {
      // (project_id, number) is unique but has no id: the planner adds an incremental sort of one-row groups
      const sorts = scope === 'project' && sort.endsWith('number');
      requests.push(tasks(`${scope}: sort ${sort}`, base, { sort }, [index(sort)], true, sorts));
    }
    const byCreation = [index('-createdAt')];
    requests.push(
      tasks(`${scope}: status=todo`, base, { status: 'todo' }, byCreation),
      tasks(`${scope}: status=todo,in_progress`, base, { status: 'todo,in_progress' }, byCreation),
      tasks(`${scope}: status=canceled`, base, { status: 'canceled' }, byCreation),
      tasks(`${scope}: priority=urgent`, base, { priority: 'urgent' }, byCreation),
      tasks(`${scope}: assigneeId=<member>`, base, { assigneeId: d.assigneeId }, ['tasks_assignee_idx'], false, true),
      tasks(`${scope}: assigneeId=none`, base, { assigneeId: 'none' }, byCreation),
      tasks(`${scope}: label (30 %)`, base, { label: d.labels.common }, byCreation),
      tasks(
        `${scope}: label (0.2 %)`,
        base,
        { label: d.labels.rare },
        ['tasks_project_labels_idx', ...byCreation],
        false,
        true,
      ),
      tasks(`${scope}: q (a quarter)`, base, { q: d.words.common }, byCreation),
      tasks(`${scope}: q (2 %)`, base, { q: d.words.medium }, ['tasks_search_idx', ...byCreation], false, true),
      tasks(`${scope}: q (1 in 9,973)`, base, { q: d.words.rare }, ['tasks_search_idx'], false, true),
      tasks(
        `${scope}: dueAfter + dueBefore (2 weeks)`,
        base,
        { dueAfter: d.dueAfter, dueBefore: d.dueBefore },
        [index('dueDate'), index('-dueDate'), ...byCreation],
        false,
        true,
      ),
      tasks(`${scope}: dueAfter, sort dueDate`, base, { dueAfter: d.dueAfter, sort: 'dueDate' }, [index('dueDate')]),
      tasks(`${scope}: dueBefore, sort -dueDate`, base, { dueBefore: d.dueBefore, sort: '-dueDate' }, [
        index('-dueDate'),
      ]),
      tasks(
        `${scope}: status=todo & priority=high, sort priority`,
        base,
        { status: 'todo', priority: 'high', sort: 'priority' },
        [index('priority')],
      ),
    );
  }
  const events = (name: string, params: Record<string, string>, indexes: string[], deep = false): ListRequest => ({
    name: `audit: ${name}`,
    path: Object.keys(params).length ? `${audit}?${q(params)}` : audit,
    table: 'audit_events',
    deep,
    indexes,
  });
  requests.push(
    events('all', {}, ['audit_events_org_created_idx'], true),
    events(
      'entityType=task',
      { entityType: 'task' },
      ['audit_events_org_entity_type_idx', 'audit_events_org_created_idx'],
      true,
    ),
    events('entityType=project', { entityType: 'project' }, ['audit_events_org_entity_type_idx']),
    events('entityId=<task>', { entityId: d.taskId }, ['audit_events_org_entity_id_idx']),
    events('entityType=task & entityId', { entityType: 'task', entityId: d.taskId }, [
      'audit_events_org_entity_id_idx',
    ]),
    events('actorId=<member>', { actorId: d.assigneeId }, ['audit_events_actor_idx']),
    events('actorType=apiKey', { actorType: 'apiKey' }, ['audit_events_org_api_key_idx']),
    events('action=task.updated', { action: 'task.updated' }, ['audit_events_action_idx']),
    events('action=project.created', { action: 'project.created' }, ['audit_events_action_idx']),
    events('since', { since: d.since }, ['audit_events_org_created_idx']),
    events('until', { until: d.until }, ['audit_events_org_created_idx'], true),
    events('since + until', { since: d.since, until: d.until }, ['audit_events_org_created_idx']),
    {
      name: 'comments of a task (2,100)',
      path: `/api/v1/tasks/${d.busyTaskId}/comments`,
      table: 'comments',
      deep: true,
      indexes: ['comments_task_created_idx'],
    },
    {
      name: 'comments of a task, newest first',
      path: `/api/v1/tasks/${d.busyTaskId}/comments?sort=-createdAt`,
      table: 'comments',
      indexes: ['comments_task_created_idx'],
    },
    { name: 'projects', path: `/api/v1/orgs/${d.orgId}/projects`, table: 'projects', indexes: [] },
    {
      name: 'members',
      path: `/api/v1/orgs/${d.orgId}/members`,
      table: 'memberships',
      deep: true,
      indexes: ['memberships_org_created_idx'],
    },
  );
  return requests;
}

/** A plan's scans (EXPLAIN (FORMAT JSON)'s nodes that read a table), for reports and assertions. */
export interface PlanSummary {
  scans: { node: string; relation?: string; index?: string }[];
  /** A Sort node above a scan of the big table (the rows are sorted, not read in order). */
  sorted: boolean;
  text: string;
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

export function summarizePlan(explained: unknown): PlanSummary {
  const root = (explained as { Plan: PlanNode }[])[0].Plan;
  const scans: PlanSummary['scans'] = [];
  let sorted = false;
  const visit = (node: PlanNode) => {
    if (node['Node Type'] === 'Sort' || node['Node Type'] === 'Incremental Sort') sorted = true;
    if (node['Relation Name'] || node['Index Name']) {
      scans.push({ node: node['Node Type'], relation: node['Relation Name'], index: node['Index Name'] });
    }
    node.Plans?.forEach(visit);
  };
  visit(root);
  const text = scans
    .map((s) => (s.index ? `${s.node.replace(' Scan', '')} ${s.index}` : `${s.node} ${s.relation}`))
    .join(' + ');
  return { scans, sorted, text: sorted ? `${text} + Sort` : text };
}
