import { api, ApiError, setApiKey } from '../api.js';
import { h, replace } from '../dom.js';
import { heading } from './common.js';

/**
 * The API key form. The key is checked against the API before it is kept (sessionStorage: this tab
 * only, gone when it closes), and is sent only as an Authorization header.
 */
export function renderLogin(root: HTMLElement, onSignedIn: () => void): void {
  const input = h('input', { id: 'api-key', name: 'api-key', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false', 'aria-describedby': 'login-help' });
  const status = h('p', { class: 'error', role: 'alert', id: 'login-error' });
  const form = h('form', { class: 'login', 'aria-labelledby': 'page-title' },
    h('p', { id: 'login-help' }, 'This Helios needs an API key (one of gateway.auth.keys). It is kept for this browser tab only and sent only in the Authorization header.'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h('button', { type: 'submit' }, 'Sign in'),
    status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const key = input.value.trim();
    if (key === '') return;
    setApiKey(key);
    api('/api/v1/services').then(onSignedIn, (err: unknown) => {
      setApiKey(null);
      status.textContent = err instanceof ApiError && err.status === 401 ? 'That key was not accepted.' : `Could not check the key: ${(err as Error).message}`;
      input.focus();
    });
  });
  replace(root, heading('Sign in'), form);
  input.focus();
}
