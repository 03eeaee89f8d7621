/**
 * OBI settings obi-ts cannot honour, refused at load instead of silently ignored:
 *
 * - `attributes.kubernetes.meta_cache_address` (an external k8s-cache service): obi-ts reads
 *   Kubernetes metadata through its own informers only; → `OBI_ERR_CONFIG_UNSUPPORTED`;
 * - `attributes.kubernetes.service_name_template` outside the supported subset
 *   (common/template.ts) → `OBI_ERR_CONFIG_UNSUPPORTED`; a malformed template is
 *   a problem of the configuration (`OBI_ERR_CONFIG_INVALID`, reported with the others).
 */
import { compileServiceNameTemplate, TemplateError } from '../common/template.ts';
import { AgentError } from '../errors.ts';
import { getAt, type Context, type Json } from './problems.ts';

const K8S = ['attributes', 'kubernetes'];

/** Reports malformed templates on `ctx`; throws for what obi-ts does not support. */
export function checkUnsupported(data: Json, ctx: Context): void {
  const cache = getAt(data, [...K8S, 'meta_cache_address']);
  if (typeof cache === 'string' && cache.trim() !== '') {
    throw new AgentError(
      'OBI_ERR_CONFIG_UNSUPPORTED',
      `attributes.kubernetes.meta_cache_address (env OTEL_EBPF_KUBE_META_CACHE_ADDRESS) is not supported by obi-ts; got ${JSON.stringify(cache)}. ` +
        'Remove it: the agent reads pod metadata through its own informers (RBAC: deploy/kubernetes/rbac.yaml).',
    );
  }
  const template = getAt(data, [...K8S, 'service_name_template']);
  if (typeof template === 'string' && template !== '') {
    try {
      compileServiceNameTemplate(template);
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      if (err.unsupported) {
        throw new AgentError('OBI_ERR_CONFIG_UNSUPPORTED', `attributes.kubernetes.service_name_template (env OTEL_EBPF_SERVICE_NAME_TEMPLATE): ${err.message}`);
      }
      ctx.report([...K8S, 'service_name_template'], `is not a valid template: ${err.message}`, template);
    }
  }
}
