import { ApiClient, TokenRefusedError } from './api-client.js';
import { h } from './create-element.js';
import { describeError } from './error-notice.js';
import { modelsPage } from './models-page.js';
import type { Page, PageContext } from './page.js';
import { parseRoute } from './router.js';
import { servicePage } from './service-page.js';
import { servicesPage } from './services-page.js';
import { clearToken, readToken, saveToken, takeTokenFromUrl } from './token-store.js';

const main = document.getElementById('app') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;
const signOut = document.getElementById('sign-out') as HTMLButtonElement;

let current: Page | undefined;
let signedIn = false;

const api = new ApiClient(readToken, () => {
  if (signedIn) showLogin('The control plane no longer accepts the token. Enter the current one.');
});
const ctx: PageContext = { api };

/** The token prompt; it shows nothing of the workspace. */
function showLogin(message?: string): void {
  signedIn = false;
  clearToken();
  current?.dispose();
  current = undefined;
  nav.hidden = true;
  signOut.hidden = true;
  document.title = 'Sign in · Berth';
  const input = h('input', {
    type: 'password',
    id: 'token-input',
    name: 'token',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const form = h(
    'form',
    {
      id: 'token-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void signIn(input.value.trim(), false);
      },
    },
    h('label', { for: 'token-input' }, 'Token'),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Open the dashboard'),
  );
  main.replaceChildren(
    h(
      'section',
      { class: 'card login', id: 'login' },
      h('h1', null, 'This dashboard needs a token'),
      message ? h('div', { class: 'notice', role: 'alert', id: 'login-error' }, message) : null,
      h(
        'p',
        null,
        'Open the login link that ',
        h('code', null, 'berth server start'),
        ' and ',
        h('code', null, 'berth server status'),
        ' print, or paste the token of the management API (in ',
        h('code', null, 'control-plane.json'),
        ' of the workspace).',
      ),
      form,
    ),
  );
  input.focus();
}

/** Tries a token; keeps it for this browser session when the API accepts it. */
async function signIn(token: string, fromLink: boolean): Promise<void> {
  if (!token) return showLogin();
  saveToken(token);
  try {
    await api.json('GET', '/api/services');
  } catch (err) {
    if (err instanceof TokenRefusedError) {
      showLogin(fromLink ? 'The token in the link was not accepted.' : 'That token was not accepted.');
    } else {
      clearToken();
      showLogin(`The control plane did not answer: ${describeError(err)}`);
    }
    return;
  }
  signedIn = true;
  nav.hidden = false;
  signOut.hidden = false;
  render();
}

function render(): void {
  if (!signedIn) return;
  current?.dispose();
  const route = parseRoute(location.hash);
  current =
    route.page === 'models'
      ? modelsPage(ctx, route.query)
      : route.page === 'service'
        ? servicePage(ctx, route.name)
        : servicesPage(ctx);
  main.replaceChildren(current.element);
  document.title = `${current.title} · Berth`;
  const section = route.page === 'models' ? 'models' : 'services';
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

window.addEventListener('hashchange', render);
signOut.addEventListener('click', () => showLogin());

const fromLink = takeTokenFromUrl();
const token = readToken();
if (token) void signIn(token, fromLink);
else showLogin();
