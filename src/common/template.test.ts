import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileServiceNameTemplate, TemplateError } from './template.ts';

const input = {
  name: 'checkout-7d9f8b6c5d-x2x9k',
  namespace: 'shop',
  labels: { 'app.kubernetes.io/name': 'checkout', 'app.kubernetes.io/component': 'api' },
  annotations: { team: 'payments' },
  containerName: 'main',
};

test('the fields, index, trim markers and if/else of the supported subset', () => {
  const cases: [string, string][] = [
    ['{{.Meta.Namespace}}.{{.Meta.Name}}', 'shop.checkout-7d9f8b6c5d-x2x9k'],
    ['{{ index .Meta.Labels "app.kubernetes.io/name" }}', 'checkout'],
    ['{{ index .Meta.Annotations `team` }}', 'payments'],
    ['{{ index .Meta.Labels "nope" }}', ''],
    ['  {{- .ContainerName -}}  \n', 'main'],
    ['{{- .Meta.Namespace }}/{{ index .Meta.Labels "app.kubernetes.io/name" }}/{{ index .Meta.Labels "app.kubernetes.io/component" -}}\n{{ if .ContainerName }}-{{ .ContainerName -}}{{ end -}}', 'shop/checkout/api-main'],
    ['{{ if index .Meta.Labels "x" }}x{{ else if .ContainerName }}c{{ else }}none{{ end }}', 'c'],
    ['{{ if index .Meta.Labels "x" }}x{{ else }}{{ if .Meta.Namespace }}ns{{ end }}{{ end }}', 'ns'],
    ['plain', 'plain'],
  ];
  for (const [t, want] of cases) assert.equal(compileServiceNameTemplate(t)(input), want, t);
  assert.equal(compileServiceNameTemplate('{{ if .ContainerName }}c{{ else }}none{{ end }}')({ ...input, containerName: '' }), 'none');
});

test('outside the subset: TemplateError, unsupported for valid Go, not for malformed text', () => {
  const unsupported = ['{{ .Meta.Name | lower }}', '{{ printf "%s" .Meta.Name }}', '{{ .Meta.UID }}', '{{ range .Meta.Labels }}x{{ end }}', '{{ $x := .Meta.Name }}', '{{/* c */}}', '{{ .Meta.Labels.app }}'];
  for (const t of unsupported) {
    assert.throws(() => compileServiceNameTemplate(t), (e: unknown) => e instanceof TemplateError && e.unsupported, t);
  }
  const malformed = ['{{ .Meta.Name', '{{ if .Meta.Name }}x', '{{ end }}', '{{ else }}', '{{ }}', '{{ index .Meta.Labels app }}', '{{ if .ContainerName }}a{{ else }}b{{ else }}c{{ end }}'];
  for (const t of malformed) {
    assert.throws(() => compileServiceNameTemplate(t), (e: unknown) => e instanceof TemplateError && !e.unsupported, t);
  }
});
