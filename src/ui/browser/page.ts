import type { ApiClient } from './api-client.js';

/** One screen of the dashboard; `dispose` stops its timers when the user navigates away. */
export interface Page {
  element: HTMLElement;
  title: string;
  dispose(): void;
}

export interface PageContext {
  api: ApiClient;
}
