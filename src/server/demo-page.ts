/**
 * GET / : a small page for the README's walk-through. It follows one channel (?channel=, default
 * "news") over the browser's own WebSocket, EventSource and a long-poll loop, and lists what
 * each transport receives. No external assets.
 */
export const DEMO_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Holdfast demo</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d232a; background: #f6f7f9; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  p { margin: .25rem 0 1rem; color: #4a5561; }
  code { background: #e8ebef; padding: 0 .3em; border-radius: 3px; }
  .cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr)); gap: 1rem; }
  section { background: #fff; border: 1px solid #d9dee4; border-radius: 6px; padding: .75rem; min-height: 10rem; }
  h2 { font-size: 1rem; margin: 0 0 .5rem; display: flex; justify-content: space-between; }
  .state { font-weight: normal; font-size: .85rem; color: #8a6d00; }
  .state.on { color: #137333; }
  ol { margin: 0; padding-left: 1.5rem; font-family: ui-monospace, monospace; font-size: .85rem; word-break: break-all; }
</style>
</head>
<body>
<h1>Holdfast</h1>
<p>Following channel <code id="channel"></code>. Publish with
<code>curl -X POST localhost:PORT/api/publish -H "X-API-Key: KEY" -d '{"channel":"news","data":"hi"}'</code></p>
<div class="cols">
  <section><h2>WebSocket <span class="state" id="ws-state">connecting</span></h2><ol id="ws"></ol></section>
  <section><h2>Server-Sent Events <span class="state" id="sse-state">connecting</span></h2><ol id="sse"></ol></section>
  <section><h2>Long-poll <span class="state" id="poll-state">connecting</span></h2><ol id="poll"></ol></section>
</div>
<script>
(function () {
  var channel = new URLSearchParams(location.search).get('channel') || 'news';
  document.getElementById('channel').textContent = channel;
  document.querySelector('p code:last-child').textContent =
    'curl -X POST ' + location.origin + '/api/publish -H "X-API-Key: $KEY" -d \\'{"channel":"' + channel + '","data":"hi"}\\'';
  function show(list, m) {
    var li = document.createElement('li');
    li.textContent = '#' + m.offset + ' ' + JSON.stringify(m.data);
    document.getElementById(list).appendChild(li);
  }
  function state(id, text, on) {
    var el = document.getElementById(id + '-state');
    el.textContent = text;
    el.className = on ? 'state on' : 'state';
  }

  var since = null;
  function openWs() {
    var ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
    ws.onopen = function () {
      ws.send(JSON.stringify({ id: 1, op: 'subscribe', channel: channel, since: since }));
    };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.id === 1 && m.ok) { since = since || { epoch: m.epoch, offset: m.offset }; state('ws', 'live', true); }
      if (m.op === 'message') { since = { epoch: since.epoch, offset: m.offset }; show('ws', m); }
    };
    ws.onclose = function () { state('ws', 'reconnecting', false); setTimeout(openWs, 1000 + Math.random() * 1000); };
  }
  openWs();

  var es = new EventSource('/sse?channel=' + encodeURIComponent(channel));
  es.addEventListener('subscribed', function () { state('sse', 'live', true); });
  es.onmessage = function (e) { show('sse', JSON.parse(e.data)); };
  es.onerror = function () { state('sse', 'reconnecting', false); };

  var cursor = '';
  function poll() {
    fetch('/poll?channel=' + encodeURIComponent(channel) + (cursor ? '&cursor=' + cursor : ''))
      .then(function (r) { return r.json(); })
      .then(function (r) { cursor = r.cursor; r.messages.forEach(function (m) { show('poll', m); }); state('poll', 'live', true); poll(); })
      .catch(function () { state('poll', 'reconnecting', false); setTimeout(poll, 1000); });
  }
  state('poll', 'live', true);
  poll();
})();
</script>
</body>
</html>
`;
