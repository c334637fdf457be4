/** The dashboard's whole stylesheet (system fonts only; light and dark). */
export const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f5f6f8; --panel: #fff; --text: #1b1f24; --muted: #5b6470; --border: #d5dae1;
  --accent: #1d4f7c; --accent-text: #fff; --focus: #2f81f7; --code: #f0f2f5;
  --ok: #116329; --ok-bg: #dcf5e3; --warn: #7a4a00; --warn-bg: #fff0c2;
  --bad: #a4161a; --bad-bg: #fde2e1; --alert: #8f3404; --alert-bg: #ffe6d5; --off: #4c5562; --off-bg: #e7ebef;
  --line1: #1d4f7c; --line2: #c2410c;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --panel: #1a1f26; --text: #e6e9ed; --muted: #9aa4b0; --border: #2f3741;
    --accent: #5aa2e6; --accent-text: #0b1420; --code: #222933;
    --ok: #7ee2a0; --ok-bg: #12351f; --warn: #ffd27a; --warn-bg: #3b2d07;
    --bad: #ff9b96; --bad-bg: #43171a; --alert: #ffb58a; --alert-bg: #40210f; --off: #b7c0ca; --off-bg: #2a313a;
    --line1: #79b8ff; --line2: #ffa657;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: var(--panel); padding: 6px 10px; z-index: 10; }
[hidden] { display: none !important; }
.topbar { display: flex; align-items: center; gap: 20px; padding: 10px 20px; background: var(--panel); border-bottom: 1px solid var(--border); flex-wrap: wrap; }
.brand { display: flex; align-items: center; gap: 8px; font-weight: 700; font-size: 17px; color: var(--text); text-decoration: none; }
nav { display: flex; gap: 4px; flex: 1; }
nav a { padding: 6px 12px; border-radius: 6px; text-decoration: none; color: var(--text); }
nav a[aria-current="page"] { background: var(--accent); color: var(--accent-text); font-weight: 600; }
main { max-width: 1280px; margin: 0 auto; padding: 20px; }
main:focus { outline: none; }
h1 { font-size: 22px; margin: 0 0 4px; display: flex; align-items: center; gap: 12px; flex-wrap: wrap; }
h2 { font-size: 17px; margin: 0 0 12px; }
h3 { font-size: 15px; margin: 0 0 8px; }
.muted { color: var(--muted); }
.page-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
.card { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 16px; margin-bottom: 16px; min-width: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(340px, 100%), 1fr)); gap: 16px; align-items: start; margin-bottom: 16px; }
.card .grid2 { margin-bottom: 0; }
.grid2 > .card { margin-bottom: 0; }
.stack > * + * { margin-top: 16px; }
.stack { margin-bottom: 16px; }
.stack > .card { margin-bottom: 0; }
button, .button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--border); background: var(--panel); color: var(--text); cursor: pointer; }
button:hover { border-color: var(--muted); }
button:disabled { opacity: .55; cursor: not-allowed; }
button.primary { background: var(--accent); color: var(--accent-text); border-color: var(--accent); font-weight: 600; }
button.danger { color: var(--bad); border-color: var(--bad); }
button.danger.primary { background: var(--bad); color: #fff; }
button.quiet { border-color: transparent; background: transparent; color: var(--muted); }
button.small { padding: 2px 8px; font-size: 13px; }
input, select, textarea { font: inherit; color: var(--text); background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 6px 8px; max-width: 100%; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; width: 100%; }
label { font-weight: 600; }
.filters { display: flex; gap: 12px; flex-wrap: wrap; align-items: end; margin-bottom: 16px; }
.filters label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; }
.table-wrap { overflow-x: auto; }
table.grid { width: 100%; border-collapse: collapse; }
table.grid th, table.grid td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--border); vertical-align: top; }
table.grid th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); font-weight: 600; }
table.grid tr:last-child td { border-bottom: none; }
table.grid code { overflow-wrap: anywhere; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-flex; align-items: center; gap: 5px; padding: 2px 9px; border-radius: 999px; font-size: 13px; font-weight: 600; white-space: nowrap; border: 1px solid currentColor; }
.badge[data-state="Healthy"] { color: var(--ok); background: var(--ok-bg); }
.badge[data-state="Transitioning"] { color: var(--warn); background: var(--warn-bg); }
.badge[data-state="Unhealthy"] { color: var(--alert); background: var(--alert-bg); }
.badge[data-state="Failed"] { color: var(--bad); background: var(--bad-bg); }
.badge[data-state="Deleting"], .badge[data-state="Unknown"] { color: var(--off); background: var(--off-bg); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { display: inline-block; padding: 1px 7px; border-radius: 4px; background: var(--code); border: 1px solid var(--border); font-size: 12px; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.kv { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 6px 16px; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; overflow-wrap: anywhere; }
pre.code { background: var(--code); border: 1px solid var(--border); border-radius: 6px; padding: 10px; overflow: auto; max-height: 420px; margin: 0; white-space: pre; }
.notice { padding: 10px 12px; border-radius: 6px; border: 1px solid var(--bad); background: var(--bad-bg); color: var(--bad); margin: 8px 0; }
.notice.info { border-color: var(--border); background: var(--code); color: var(--text); }
.tabs { display: flex; gap: 4px; margin-bottom: 10px; }
.tabs button[aria-pressed="true"] { background: var(--accent); color: var(--accent-text); border-color: var(--accent); }
.form-field { display: flex; flex-direction: column; gap: 4px; margin-bottom: 10px; }
.form-field .hint { font-size: 12px; color: var(--muted); font-weight: normal; }
.form-field input[type="checkbox"] { align-self: flex-start; }
fieldset { border: 1px solid var(--border); border-radius: 8px; padding: 8px 12px 2px; margin: 0 0 10px; }
legend { font-weight: 600; padding: 0 4px; }
.score-bar { display: flex; gap: 10px; align-items: center; flex-wrap: wrap; margin-top: 8px; }
.result-status { font-weight: 600; margin-bottom: 6px; }
.result-status[data-ok="false"] { color: var(--bad); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px; }
.chart h3 { margin: 0; font-size: 14px; }
.chart .latest { font-size: 13px; color: var(--muted); min-height: 1.4em; font-variant-numeric: tabular-nums; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .axis { fill: var(--muted); font-size: 10px; }
.chart .gridline { stroke: var(--border); stroke-width: 1; }
.chart .s0 { stroke: var(--line1); }
.chart .s1 { stroke: var(--line2); }
.chart circle.s0 { fill: var(--line1); }
.chart circle.s1 { fill: var(--line2); }
.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
.legend { display: flex; gap: 12px; font-size: 12px; color: var(--muted); }
.legend svg { width: 22px; height: 8px; vertical-align: middle; }
.keys { display: grid; grid-template-columns: max-content minmax(0, 1fr) auto; gap: 8px 12px; align-items: center; }
.keys .value { overflow-wrap: anywhere; }
.log { height: 320px; overflow: auto; background: var(--code); border: 1px solid var(--border); border-radius: 6px; padding: 8px; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.log .lvl-WARN { color: var(--warn); font-weight: 600; }
.log .lvl-ERROR, .log .lvl-FATAL { color: var(--bad); font-weight: 600; }
.toolbar { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; font-size: 14px; }
.toolbar label { font-weight: normal; display: flex; gap: 6px; align-items: center; }
.model-group { margin-bottom: 16px; }
.model-group h2 { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.empty { padding: 24px; text-align: center; color: var(--muted); }
.login { max-width: 460px; margin: 40px auto; }
.login form { display: flex; flex-direction: column; gap: 10px; }
dialog { border: 1px solid var(--border); border-radius: 10px; padding: 20px; max-width: min(520px, calc(100vw - 32px)); background: var(--panel); color: var(--text); }
dialog::backdrop { background: rgb(0 0 0 / 45%); }
dialog form { display: flex; flex-direction: column; gap: 12px; }
dialog .actions { justify-content: flex-end; }
#toast { position: fixed; bottom: 16px; right: 16px; display: flex; flex-direction: column; gap: 8px; z-index: 20; max-width: calc(100vw - 32px); }
#toast div { background: var(--text); color: var(--bg); padding: 10px 14px; border-radius: 8px; box-shadow: 0 4px 14px rgb(0 0 0 / 25%); }
#toast div[data-kind="error"] { background: var(--bad); color: #fff; }
@media (max-width: 720px) {
  main { padding: 12px; }
  .topbar { padding: 8px 12px; gap: 8px; flex-wrap: nowrap; }
  nav a { padding: 6px 8px; }
  .grid2 { grid-template-columns: minmax(0, 1fr); }
  table.stacked thead { display: none; }
  table.stacked, table.stacked tbody, table.stacked tr, table.stacked td { display: block; width: 100%; }
  table.stacked tr { border-bottom: 1px solid var(--border); padding: 8px 0; }
  table.stacked td { border: none; padding: 3px 0; display: grid; grid-template-columns: 8.5em minmax(0, 1fr); gap: 8px; text-align: left; }
  table.stacked td::before { content: attr(data-label); color: var(--muted); font-size: 13px; }
  .kv { grid-template-columns: minmax(0, 1fr); gap: 2px; }
  .kv dd { margin-bottom: 6px; }
  .keys { grid-template-columns: minmax(0, 1fr); }
}
`;
