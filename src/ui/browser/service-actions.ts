import type { ModelVersion, ServiceView } from './api-types.js';
import { confirmAction } from './confirm-dialog.js';
import { h } from './create-element.js';
import { describeError } from './error-notice.js';
import type { PageContext } from './page.js';
import { toast } from './toast.js';

/** Asks which version of each served model to serve, then starts a rolling update. */
export async function updateModelVersions(ctx: PageContext, service: ServiceView): Promise<void> {
  let all: ModelVersion[];
  try {
    all = await ctx.api.json<ModelVersion[]>('GET', '/api/models');
  } catch (err) {
    toast(`Could not list the models: ${describeError(err)}`, 'error');
    return;
  }
  const selects = service.models.map((id, i) => {
    const name = id.slice(0, id.lastIndexOf(':'));
    const versions = all.filter((m) => m.name === name).sort((a, b) => b.version - a.version);
    const select = h(
      'select',
      { id: `update-model-${i}`, 'data-model': name },
      versions.map((m) =>
        h(
          'option',
          { value: m.id, selected: m.id === id },
          `${m.id}${m.id === id ? ' (serving now)' : ''}${m.aliases.length ? `  @${m.aliases.join(' @')}` : ''}`,
        ),
      ),
    );
    if (versions.length === 0)
      select.append(h('option', { value: id, selected: true }, `${id} (serving now)`));
    return {
      id,
      select,
      field: h('div', { class: 'form-field' }, h('label', { for: `update-model-${i}` }, name), select),
    };
  });
  const ok = await confirmAction({
    title: `Update ${service.name} to another model version`,
    body: [
      'The service rolls over without dropping requests: new replicas start with the chosen versions and take traffic once ready; if they fail, the current ones keep serving.',
      ...selects.map((s) => s.field),
    ],
    confirmLabel: 'Update service',
  });
  if (!ok) return;
  const models = selects.map((s) => s.select.value);
  if (models.every((m, i) => m === selects[i].id)) {
    toast('Nothing to update: the service already serves these versions.');
    return;
  }
  try {
    const updated = await ctx.api.json<ServiceView>(
      'POST',
      `/api/services/${encodeURIComponent(service.name)}/update`,
      { models },
    );
    toast(`Updating ${service.name} to ${models.join(', ')} (generation ${updated.generation}).`);
  } catch (err) {
    toast(`Could not update ${service.name}: ${describeError(err)}`, 'error');
  }
}

/** Asks the user to type the service's name, deletes it and waits until it is gone. @returns true when deleted. */
export async function deleteService(
  ctx: PageContext,
  service: ServiceView,
  button: HTMLButtonElement,
): Promise<boolean> {
  const ok = await confirmAction({
    title: `Delete service ${service.name}?`,
    body: [
      'Its replicas finish the requests in flight and stop; its scoring URI stops answering and its keys are dropped. The models stay registered.',
    ],
    confirmLabel: 'Delete service',
    danger: true,
    typeToConfirm: service.name,
  });
  if (!ok) return false;
  button.disabled = true;
  button.textContent = 'Deleting…';
  try {
    await ctx.api.json('DELETE', `/api/services/${encodeURIComponent(service.name)}`);
    toast(`Service ${service.name} deleted.`);
    return true;
  } catch (err) {
    toast(`Could not delete ${service.name}: ${describeError(err)}`, 'error');
    button.disabled = false;
    button.textContent = 'Delete…';
    return false;
  }
}
