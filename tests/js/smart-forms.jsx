// What a trust's React page does with CSIRO Smart Forms and the wb_fhir Questionnaire, made
// callable by the browser tests (tests/test_forms_smart_forms.py). Bundled by the tests with esbuild.
import React from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BaseRenderer, RendererThemeProvider, buildForm, getResponse } from '@aehrc/smart-forms-renderer';
import { extractResultIsOperationOutcome, inAppExtract } from '@aehrc/sdc-template-extract';

const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
let root = null;
let shown = null;

// The Questionnaire (and a stored or populated response to continue), rendered in #form.
window.wbShow = async function (questionnaire, response) {
  shown = questionnaire;
  // every answer list is contained: a terminology server on this origin that answers nothing
  // would show up as a console error, any other as a request the tests refuse
  await buildForm({
    questionnaire,
    questionnaireResponse: response || undefined,
    terminologyServerUrl: location.origin + '/no-terminology-server',
  });
  if (!root) root = createRoot(document.getElementById('form'));
  root.render(
    <RendererThemeProvider>
      <QueryClientProvider client={queryClient}>
        <BaseRenderer />
      </QueryClientProvider>
    </RendererThemeProvider>
  );
};

// The response as the renderer writes it, and what Smart Forms' template extraction makes of it.
window.wbRead = async function () {
  const response = getResponse();
  const out = await inAppExtract(structuredClone(response), shown, null);
  const ok = out.extractSuccess && !extractResultIsOperationOutcome(out.extractResult);
  return {
    response,
    extracted: ok ? out.extractResult.extractedBundle.entry.map((e) => e.resource) : [],
    issues: ok ? [] : out.extractResult.issue || [],
  };
};

window.wbReady = true;
