/** The dashboard's HTML shell: no workspace data in it; `app.js` fills `#app` once the token is accepted. */
export function dashboardHtml(modules: readonly string[]): string {
  const preload = modules.map((m) => `<link rel="modulepreload" href="/ui/${m}">`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Berth dashboard</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/dashboard.css">
${preload}
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<a class="skip" href="#app">Skip to content</a>
<header class="topbar">
<a class="brand" href="#/services"><img src="/ui/icon.svg" alt="" width="22" height="22"><span>Berth</span></a>
<nav id="nav" aria-label="Main" hidden>
<a href="#/services" data-nav="services">Services</a>
<a href="#/models" data-nav="models">Models</a>
</nav>
<button id="sign-out" type="button" class="quiet" hidden>Sign out</button>
</header>
<main id="app" tabindex="-1"><p class="muted">Loading…</p></main>
<div id="toast" role="status" aria-live="polite"></div>
<noscript><p>The Berth dashboard needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/** The page shown when the browser modules were not compiled (running from a source tree without dist/). */
export function missingAssetsHtml(reason: string): string {
  const text = reason.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Berth dashboard</title></head>
<body><h1>The dashboard is not built</h1><p>${text}</p><p>Run <code>npm run build</code>, then reload.</p></body></html>
`;
}

/** Favicon and brand mark: a sail on a hull. */
export const DASHBOARD_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#1d4f7c"/><path d="M5 20h22l-4 6H9z" fill="#fff"/><path d="M15 5v13h8z" fill="#9fd0ff"/><path d="M15 5v15" stroke="#fff" stroke-width="2"/></svg>
`;
