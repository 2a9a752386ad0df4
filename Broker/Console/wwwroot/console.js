// The broker console: a hash-routed page over the JSON admin API (/api/...). No framework: the
// DOM is built with h() and textContent only, so message contents can never become markup.
'use strict';

const view = document.getElementById('view');
let info = { principal: '', dashboardUrl: null };
let refresh = null;     // the current view's periodic refresh, if any
let tail = null;        // the open live-tail EventSource, if any

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

async function api(path, options = {}) {
  const response = await fetch('/api' + path, {
    ...options,
    headers: options.body ? { 'Content-Type': 'application/json' } : {},
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  if (response.status === 204) return null;
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : await response.text();
  if (!response.ok) throw new Error(body?.detail || body?.title || (body?.errors && Object.values(body.errors).flat().join(' ')) || String(body) || response.statusText);
  return body;
}

function toast(text, bad) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = 'show' + (bad ? ' bad' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.className = '', bad ? 8000 : 4000);
}

function confirmAction(text) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

/** Runs a change after a confirmation; shows what happened or why not. */
async function change(question, action, done) {
  if (question && !await confirmAction(question)) return;
  try {
    const result = await action();
    if (done) toast(typeof done === 'function' ? done(result) : done);
    await route();
  } catch (e) {
    toast(e.message, true);
  }
}

const fmtBytes = n => n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`;
const fmtTime = ms => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
const link = (href, text) => h('a', { href }, text);
const topicHref = name => '#/topics/' + encodeURIComponent(name);
const groupHref = id => '#/groups/' + encodeURIComponent(id);
const table = (head, rows, attrs) => h('div', { class: 'scroll' }, h('table', attrs || {},
  h('thead', {}, h('tr', {}, head.map(c => h('th', { class: c.endsWith('#') ? 'n' : null }, c.replace(/#$/, ''))))),
  h('tbody', {}, rows)));
const num = v => h('td', { class: 'n' }, v);

// ---- Topics -------------------------------------------------------------------------------

async function topicsView() {
  const topics = await api('/topics');
  const rows = topics.map(t => h('tr', { dataset: { topic: t.name } },
    h('td', {}, link(topicHref(t.name), t.name), t.internal ? h('span', { class: 'tag' }, 'internal') : null,
      t.dead_letters ? h('span', { class: 'tag bad' }, 'dead letters') : null),
    num(t.partitions.length), num(t.messages), num(fmtBytes(t.size_bytes)),
    num(t.partitions.reduce((s, p) => s + p.segments, 0)),
    h('td', {}, Object.entries(t.configs).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)))));
  const form = h('form', { class: 'inline', id: 'create-topic' },
    h('label', {}, 'name', h('input', { name: 'name', required: true, placeholder: 'payments', pattern: '[a-zA-Z0-9._\\-]+' })),
    h('label', {}, 'partitions', h('input', { name: 'partitions', type: 'number', min: 1, value: 1, style: 'width:6rem' })),
    h('label', {}, 'configs (k=v, one per line)', h('textarea', { name: 'configs', rows: 2, style: 'min-height:2.4rem;width:18rem', placeholder: 'cleanup.policy=compact' })),
    h('button', { class: 'primary' }, 'Create topic'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    const f = new FormData(form);
    const body = { name: f.get('name'), partitions: Number(f.get('partitions')), configs: parseLines(f.get('configs'), '=') };
    change(`Create topic ${body.name} with ${body.partitions} partition(s)?`, () => api('/topics', { method: 'POST', body }), `Created ${body.name}`);
  });
  return [h('h2', {}, 'Topics'),
    h('p', { class: 'muted' }, 'Each partition is a folder of segments on disk; its high watermark is the end a consumer sees (fsynced).'),
    table(['topic', 'partitions#', 'messages#', 'size#', 'segments#', 'configs'], rows, { id: 'topics' }),
    h('h3', {}, 'New topic'), form];
}

function parseLines(text, separator) {
  const result = {};
  for (const line of String(text || '').split('\n').map(l => l.trim()).filter(Boolean)) {
    const at = line.indexOf(separator);
    if (at < 1) throw new Error(`"${line}" is not name${separator}value`);
    result[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return result;
}

async function topicView(name) {
  const topic = await api('/topics/' + encodeURIComponent(name));
  const partitions = topic.partitions.map(p => h('tr', {},
    num(p.partition), num(p.log_start_offset), num(p.high_watermark), num(p.log_end_offset), num(fmtBytes(p.size_bytes)), num(p.segments),
    h('td', { class: 'problem' }, p.storage_error || '')));
  const configs = h('form', { id: 'edit-configs' },
    h('textarea', { name: 'configs', rows: 4 }, topic.effective_configs.filter(c => !c.is_default).map(c => `${c.name}=${c.value}`).join('\n')),
    h('div', { class: 'bar' }, h('button', { class: 'primary' }, 'Save configs'),
      h('small', {}, 'Lines name=value; a config left out returns to its default.')));
  configs.addEventListener('submit', e => {
    e.preventDefault();
    let wanted;
    try { wanted = parseLines(new FormData(configs).get('configs'), '='); } catch (err) { return toast(err.message, true); }
    const body = { configs: { ...Object.fromEntries(Object.keys(topic.configs).map(k => [k, null])), ...wanted } };
    change(`Change the configs of ${name}?`, () => api(`/topics/${encodeURIComponent(name)}/configs`, { method: 'PATCH', body }), 'Configs saved');
  });
  const defaults = topic.effective_configs.filter(c => c.is_default).map(c => h('span', { class: 'tag' }, `${c.name}=${c.value ?? ''}`));
  return [h('h2', {}, 'Topic ', h('code', {}, name)),
    table(['partition#', 'log start#', 'high watermark#', 'log end#', 'size#', 'segments#', ''], partitions, { id: 'partitions' }),
    h('div', { class: 'cols' },
      h('div', {}, h('h3', {}, 'Configs'), configs, h('details', {}, h('summary', { class: 'muted' }, 'defaults'), defaults)),
      h('div', {}, h('h3', {}, 'Produce a message'), produceForm(topic))),
    h('h3', {}, 'Messages'), browser(topic),
    topic.internal ? null : h('p', {}, h('button', { class: 'danger', id: 'delete-topic',
      onclick: () => change(`Delete topic ${name} and all its messages? This cannot be undone.`,
        () => api('/topics/' + encodeURIComponent(name), { method: 'DELETE' }), `Deleted ${name}`).then(() => location.hash = '#/topics') }, 'Delete topic'))];
}

function produceForm(topic) {
  const form = h('form', { id: 'produce' },
    h('div', { class: 'bar' },
      h('label', {}, 'partition', h('select', { name: 'partition' }, h('option', { value: '' }, 'by key'),
        topic.partitions.map(p => h('option', { value: p.partition }, p.partition)))),
      h('label', { style: 'flex:1' }, 'key', h('input', { name: 'key', placeholder: 'order id' }))),
    h('label', {}, 'headers (name: value, one per line)', h('textarea', { name: 'headers', rows: 2, style: 'min-height:3rem', placeholder: 'event-type: OrderPlaced' })),
    h('label', {}, 'value (JSON)', h('textarea', { name: 'value', rows: 5, placeholder: '{"order_id": "..."}' })),
    h('div', { class: 'bar' }, h('button', { class: 'primary' }, 'Produce')));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const f = new FormData(form);
    let body;
    try {
      body = { partition: f.get('partition') === '' ? null : Number(f.get('partition')), key: f.get('key') || null,
        headers: parseLines(f.get('headers'), ':'), value: JSON.parse(f.get('value')) };
    } catch (err) { return toast(`Not sent: ${err.message}`, true); }
    try {
      const produced = await api(`/topics/${encodeURIComponent(topic.name)}/messages`, { method: 'POST', body });
      toast(`Produced to ${produced.topic}/${produced.partition} at offset ${produced.offset}`);
    } catch (err) { toast(err.message, true); }
  });
  return form;
}

function browser(topic) {
  const list = h('div', { class: 'messages', id: 'messages' });
  const form = h('form', { class: 'inline', id: 'browse' },
    h('label', {}, 'partition', h('select', { name: 'partition' }, h('option', { value: '' }, 'all'),
      topic.partitions.map(p => h('option', { value: p.partition }, p.partition)))),
    h('label', {}, 'start from', h('select', { name: 'from' }, ['newest', 'oldest', 'offset', 'timestamp'].map(v => h('option', { value: v }, v)))),
    h('label', {}, 'offset or time', h('input', { name: 'at', placeholder: '42 or 2026-11-27T08:00', style: 'width:11rem' })),
    h('label', {}, 'filter (key, header or value)', h('input', { name: 'filter', type: 'search', placeholder: 'text' })),
    h('label', {}, 'how many', h('input', { name: 'limit', type: 'number', value: 50, min: 1, max: 500, style: 'width:5rem' })),
    h('button', { class: 'primary' }, 'Show'),
    h('button', { type: 'button', id: 'tail', onclick: () => toggleTail(topic.name, form, list) }, 'Live tail'));
  form.addEventListener('submit', e => { e.preventDefault(); browse(topic.name, form, list); });
  browse(topic.name, form, list);
  return [form, list];
}

async function browse(name, form, list) {
  stopTail();
  const f = new FormData(form);
  const query = new URLSearchParams({ from: f.get('from'), limit: f.get('limit') || 50 });
  if (f.get('partition') !== '') query.set('partition', f.get('partition'));
  if (f.get('filter')) query.set('filter', f.get('filter'));
  const at = String(f.get('at') || '').trim();
  if (f.get('from') === 'offset') query.set('offset', at || '0');
  if (f.get('from') === 'timestamp') query.set('timestamp', /^\d+$/.test(at) ? at : String(Date.parse(at) || 0));
  try {
    const page = await api(`/topics/${encodeURIComponent(name)}/messages?${query}`);
    list.replaceChildren(...(page.messages.length ? page.messages.map(messageCard) : [h('p', { class: 'muted' }, 'No messages here.')]));
  } catch (e) {
    list.replaceChildren(h('p', { class: 'problem' }, e.message));
  }
}

function toggleTail(name, form, list) {
  if (tail) return stopTail();
  const f = new FormData(form);
  const query = new URLSearchParams();
  if (f.get('partition') !== '') query.set('partition', f.get('partition'));
  if (f.get('filter')) query.set('filter', f.get('filter'));
  list.replaceChildren(h('p', { class: 'muted', id: 'tail-waiting' }, 'Following new messages…'));
  tail = new EventSource(`/api/topics/${encodeURIComponent(name)}/tail?${query}`);
  tail.addEventListener('message', e => {
    document.getElementById('tail-waiting')?.remove();
    list.prepend(messageCard(JSON.parse(e.data)));
  });
  tail.onerror = () => toast('The live tail lost the broker; it retries.', true);
  document.getElementById('tail').textContent = 'Stop tail';
  document.getElementById('tail').classList.add('primary');
}

function stopTail() {
  if (!tail) return;
  tail.close();
  tail = null;
  const button = document.getElementById('tail');
  if (button) { button.textContent = 'Live tail'; button.classList.remove('primary'); }
}

function messageCard(m) {
  return h('article', { class: 'message', dataset: { partition: m.partition, offset: m.offset, key: m.key ?? '' } },
    h('div', { class: 'meta' },
      h('span', {}, h('b', {}, `${m.topic}/${m.partition}@${m.offset}`)),
      h('span', {}, fmtTime(m.timestamp)),
      h('span', {}, 'key ', h('b', { class: 'key' }, m.key ?? 'null')),
      m.trace_id ? h('span', {}, 'trace ', m.trace_url ? h('a', { href: m.trace_url, class: 'trace-link', target: '_blank', rel: 'noopener' }, m.trace_id)
        : h('code', {}, m.trace_id), ' ', link('#/traces/' + m.trace_id, 'all messages of this trace')) : null),
    m.headers.length ? h('table', { class: 'headers' }, h('tbody', {}, m.headers.map(x => h('tr', {}, h('th', {}, x.key), h('td', {}, x.value ?? 'null'))))) : null,
    h('pre', { class: 'value', dataset: { format: m.value_format } }, m.value ?? 'null (tombstone)'));
}

// ---- Consumer groups ----------------------------------------------------------------------

async function groupsView() {
  const groups = await api('/groups');
  const rows = groups.map(g => h('tr', { dataset: { group: g.group_id } },
    h('td', {}, link(groupHref(g.group_id), g.group_id)), h('td', {}, g.state), h('td', {}, g.protocol || ''),
    num(g.members.length), h('td', { class: 'n' + (g.total_lag > 0 ? ' lagging' : '') }, g.total_lag)));
  return [h('h2', {}, 'Consumer groups'),
    h('p', { class: 'muted' }, 'A group shares the partitions of its topics among its members; lag is how far its committed offsets are behind the high watermarks.'),
    table(['group', 'state', 'assignor', 'members#', 'lag#'], rows, { id: 'groups' })];
}

async function groupView(id) {
  const g = await api('/groups/' + encodeURIComponent(id));
  const members = g.members.map(m => h('tr', {}, h('td', {}, m.client_id), h('td', {}, m.client_host), h('td', {}, m.group_instance_id || ''),
    h('td', {}, m.assignment.map(a => h('span', { class: 'tag' }, `${a.topic}/${a.partition}`))), h('td', {}, h('small', {}, m.member_id))));
  const offsets = g.offsets.map(o => h('tr', {}, h('td', {}, link(topicHref(o.topic), o.topic)), num(o.partition),
    num(o.committed_offset < 0 ? '—' : o.committed_offset), num(o.high_watermark), h('td', { class: 'n' + (o.lag > 0 ? ' lagging' : '') }, o.lag)));
  const reset = h('form', { class: 'inline', id: 'reset' },
    h('label', {}, 'reset offsets to', h('select', { name: 'to' }, ['earliest', 'latest', 'timestamp', 'offset'].map(v => h('option', { value: v }, v)))),
    h('label', {}, 'offset or time', h('input', { name: 'at', style: 'width:11rem' })),
    h('label', {}, 'topic (default: all it reads)', h('input', { name: 'topic' })),
    h('button', { class: 'primary' }, 'Reset offsets'));
  reset.addEventListener('submit', e => {
    e.preventDefault();
    const f = new FormData(reset);
    const at = String(f.get('at') || '').trim();
    const body = { to: f.get('to'), topic: f.get('topic') || null,
      offset: f.get('to') === 'offset' ? Number(at) : null, timestamp: f.get('to') === 'timestamp' ? (/^\d+$/.test(at) ? Number(at) : Date.parse(at)) : null };
    change(`Move the committed offsets of ${id} to ${body.to}${at ? ' ' + at : ''}? Its consumers will read from there when they start.`,
      () => api(`/groups/${encodeURIComponent(id)}/offsets/reset`, { method: 'POST', body }), `Offsets of ${id} reset to ${body.to}`);
  });
  return [h('h2', {}, 'Group ', h('code', {}, id), ' ', h('span', { class: 'tag', id: 'group-state' }, g.state)),
    h('p', { class: 'muted' }, `protocol ${g.protocol_type || '—'} / ${g.protocol || '—'}`),
    h('h3', {}, 'Members'), g.members.length ? table(['client id', 'host', 'instance id', 'partitions', 'member id'], members, { id: 'members' })
      : h('p', { class: 'muted' }, 'No members: the group is empty.'),
    h('h3', {}, 'Offsets and lag'), table(['topic', 'partition#', 'committed#', 'high watermark#', 'lag#'], offsets, { id: 'offsets' }),
    h('h3', {}, 'Steer'),
    h('p', { class: 'muted' }, 'As in Kafka, offsets can be reset and a group deleted only while it has no members.'),
    reset,
    h('button', { class: 'danger', id: 'delete-group', onclick: () => change(`Delete group ${id} and its committed offsets?`,
      () => api('/groups/' + encodeURIComponent(id), { method: 'DELETE' }), `Deleted ${id}`).then(() => location.hash = '#/groups') }, 'Delete group')];
}

// ---- Dead letters -------------------------------------------------------------------------

async function deadLettersView() {
  const topics = await api('/dead-letters');
  const sections = topics.map(t => {
    const replayAll = h('button', { class: 'primary', dataset: { replayAll: t.topic }, disabled: t.pending === 0 ? true : null,
      onclick: () => change(`Send the ${t.pending} dead letter(s) of ${t.topic} not replayed yet back to ${t.origin_topic}?`,
        () => api(`/dead-letters/${encodeURIComponent(t.topic)}/replay`, { method: 'POST', body: {} }), r => `Replayed ${r.replayed.length} message(s)`) },
      `Replay all (${t.pending})`);
    const letters = t.letters.map(l => {
      const card = messageCard(l.message);
      card.classList.add('dead-letter');
      card.prepend(h('div', { class: 'error' }, h('b', {}, l.error || 'no error recorded'),
        h('div', { class: 'muted' }, `from ${l.original_topic ?? '?'}/${l.original_partition ?? '?'}@${l.original_offset ?? '?'}, ${l.attempts ?? '?'} attempt(s)`),
        l.replayed ? h('span', { class: 'tag ok' }, 'replayed') : null));
      card.append(h('button', { class: 'replay-one', onclick: () => change(`Send ${t.topic}/${l.partition}@${l.offset} back to ${l.original_topic ?? t.origin_topic}?`,
        () => api(`/dead-letters/${encodeURIComponent(t.topic)}/replay`, { method: 'POST', body: { partition: l.partition, offset: l.offset } }),
        r => `Replayed to ${r.replayed[0].to.topic}/${r.replayed[0].to.partition}@${r.replayed[0].to.offset}`) }, 'Replay'));
      return card;
    });
    return h('section', { dataset: { deadLetters: t.topic } }, h('h3', {}, t.topic, ' ', h('small', {}, `${t.count} letter(s), ${t.pending} not replayed`)),
      replayAll, h('div', { class: 'messages' }, letters.length ? letters : h('p', { class: 'muted' }, 'Empty.')));
  });
  return [h('h2', {}, 'Dead letters'),
    h('p', { class: 'muted' }, 'Messages a consumer could not handle, with the error and where they came from. Replay sends one back to its partition with its message id, so inboxes still de-duplicate, and a replayed-by header.'),
    sections.length ? sections : h('p', {}, 'No dead-letter topics.')];
}

// ---- Traces, security -----------------------------------------------------------------------

async function traceView(traceId) {
  const found = await api('/traces/' + encodeURIComponent(traceId));
  const dashboard = info.dashboard_url ? h('p', {}, link(`${info.dashboard_url.replace(/\/$/, '')}/traces/detail/${traceId}`, 'Open this trace in the Aspire dashboard')) : null;
  return [h('h2', {}, 'Trace ', h('code', {}, traceId)), dashboard,
    h('p', { class: 'muted' }, 'Every message whose traceparent carries this trace, across topics, by time.'),
    h('div', { class: 'messages', id: 'messages' }, found.messages.length ? found.messages.map(messageCard) : h('p', {}, 'No message carries this trace.'))];
}

async function securityView() {
  const s = await api('/security');
  return [h('h2', {}, 'Security'),
    h('h3', {}, 'Listeners'), h('ul', {}, s.listeners.map(l => h('li', {}, l))),
    h('h3', {}, 'Users'), table(['principal', 'mechanisms'], s.users.map(u => h('tr', {}, h('td', {}, u.principal), h('td', {}, u.mechanisms.join(', '))))),
    h('h3', {}, `ACLs ${s.acls_enabled ? '(on: deny by default)' : '(off)'}`), h('p', {}, 'Super users: ', s.super_users.join(', ') || 'none'),
    table(['acl', 'from'], s.acls.map(a => h('tr', {}, h('td', {}, h('code', {}, a.acl)), h('td', {}, a.source))))];
}

// ---- Routing ------------------------------------------------------------------------------

const routes = [
  [/^#\/topics\/(.+)$/, m => topicView(decodeURIComponent(m[1])), 'topics'],
  [/^#\/groups\/(.+)$/, m => groupView(decodeURIComponent(m[1])), 'groups'],
  [/^#\/groups$/, () => groupsView(), 'groups', true],
  [/^#\/dead-letters$/, () => deadLettersView(), 'dead-letters', true],
  [/^#\/traces\/([0-9a-f]{32})$/, m => traceView(m[1]), null],
  [/^#\/security$/, () => securityView(), 'security'],
  [/^/, () => topicsView(), 'topics', true],
];

async function route() {
  clearInterval(refresh);
  stopTail();
  const hash = location.hash || '#/topics';
  const [match, render, nav, live] = routes.map(r => [r[0].exec(hash), ...r.slice(1)]).find(r => r[0]);
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === nav));
  const draw = async () => {
    try { view.replaceChildren(...[await render(match)].flat(Infinity).filter(Boolean)); }
    catch (e) { view.replaceChildren(h('p', { class: 'problem' }, e.message)); }
  };
  await draw();
  // Lists (and the dead letters, whose buttons keep no state) refresh themselves; pages with forms do not, so nothing typed is lost.
  if (live) refresh = setInterval(draw, 3000);
}

window.addEventListener('hashchange', route);
(async () => {
  try { info = await api('/info'); } catch { /* shown by the first view */ }
  document.getElementById('who').textContent = info.principal ? `signed in as ${info.principal}` : '';
  await route();
})();
