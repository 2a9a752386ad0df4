namespace Shop.Broker.Console;

/// <summary>
/// The broker console's one page: topics with their partitions and offsets, consumer groups with
/// their members and lag, refreshed every two seconds from the JSON API beside it.
/// </summary>
public static class ConsolePage
{
    public const string Html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>Broker console</title>
        <style>
          body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2rem auto; color: #222; }
          table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
          td, th { padding: .3rem .5rem; border-bottom: 1px solid #ddd; text-align: left; }
          td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
          .lagging { color: #b00020; font-weight: 600; }
          small { color: #666; }
        </style>
        </head>
        <body>
        <h1>Broker console</h1>
        <p><small>The shop's Kafka-protocol file-log broker. JSON: <a href="/api/topics">/api/topics</a>,
        <a href="/api/groups">/api/groups</a>, /api/groups/&lt;group&gt;/lag, <a href="/api/security">/api/security</a>. Refreshed every 2 s.</small></p>
        <h2>Topics</h2>
        <table id="topics"><thead><tr><th>topic</th><th class="n">partition</th><th class="n">log start</th>
        <th class="n">high watermark</th><th class="n">log end</th><th class="n">bytes</th><th class="n">segments</th><th>configs</th></tr></thead><tbody></tbody></table>
        <h2>Consumer groups</h2>
        <table id="groups"><thead><tr><th>group</th><th>state</th><th>members</th><th>topic</th>
        <th class="n">partition</th><th class="n">committed</th><th class="n">high watermark</th><th class="n">lag</th></tr></thead><tbody></tbody></table>
        <h2>Security</h2>
        <p id="listeners"></p>
        <table id="principals"><thead><tr><th>principal</th><th>SCRAM credentials</th></tr></thead><tbody></tbody></table>
        <table id="acls"><thead><tr><th>ACL</th><th>from</th></tr></thead><tbody></tbody></table>
        <script>
        const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
        async function refresh() {
          const topics = await (await fetch('/api/topics')).json();
          document.querySelector('#topics tbody').innerHTML = topics.flatMap(t => t.partitions.map(p =>
            `<tr><td>${esc(t.name)}</td><td class="n">${p.partition}</td><td class="n">${p.log_start_offset}</td>
             <td class="n">${p.high_watermark}</td><td class="n">${p.log_end_offset}</td><td class="n">${p.size_bytes}</td><td class="n">${p.segments}</td>
             <td>${esc(Object.entries(t.configs ?? {}).map(([k, v]) => k + '=' + v).join(', '))}</td></tr>`)).join('');
          const groups = await (await fetch('/api/groups')).json();
          const rows = [];
          for (const g of groups) {
            const lag = await (await fetch('/api/groups/' + encodeURIComponent(g.group_id) + '/lag')).json();
            const members = g.members.map(m => esc(m.client_id)).join(', ') || '—';
            if (lag.length === 0) rows.push(`<tr><td>${esc(g.group_id)}</td><td>${esc(g.state)}</td><td>${members}</td><td colspan="5"></td></tr>`);
            for (const l of lag) rows.push(`<tr><td>${esc(g.group_id)}</td><td>${esc(g.state)}</td><td>${members}</td><td>${esc(l.topic)}</td>
              <td class="n">${l.partition}</td><td class="n">${l.committed_offset < 0 ? '—' : l.committed_offset}</td>
              <td class="n">${l.high_watermark}</td><td class="n${l.lag > 0 ? ' lagging' : ''}">${l.lag}</td></tr>`);
          }
          document.querySelector('#groups tbody').innerHTML = rows.join('');
          const security = await (await fetch('/api/security')).json();
          document.querySelector('#listeners').innerHTML = 'Listeners: ' + security.listeners.map(esc).join(', ')
            + (security.acls_enabled ? ' · ACLs on · super users: ' + (security.super_users.map(esc).join(', ') || '—') : ' · ACLs off');
          document.querySelector('#principals tbody').innerHTML = security.users.map(u =>
            `<tr><td>${esc(u.principal)}</td><td>${u.mechanisms.map(esc).join(', ')}</td></tr>`).join('');
          document.querySelector('#acls tbody').innerHTML = security.acls.map(a =>
            `<tr><td>${esc(a.acl)}</td><td>${esc(a.source)}</td></tr>`).join('');
        }
        refresh();
        setInterval(refresh, 2000);
        </script>
        </body>
        </html>
        """;
}
