import { Ajv } from 'ajv';
import type { ReportSections } from '@helios/core';

export interface ModelAnswer extends ReportSections {
  title: string;
}

const text = { type: 'string' } as const;
const list = { type: 'array', items: text } as const;

/**
 * What the model must answer, sent as `response_format: json_schema` (strict). Strict mode on OpenAI
 * requires every property listed in `required` and `additionalProperties: false` everywhere, and
 * supports few keywords, so limits on lengths live in `ANSWER_LIMITS` and are checked locally.
 */
export const ANSWER_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'executiveSummary', 'rootCauseAnalysis', 'impactAssessment', 'recommendedActions', 'preventionMeasures'],
  properties: {
    title: text,
    executiveSummary: text,
    rootCauseAnalysis: text,
    impactAssessment: text,
    recommendedActions: {
      type: 'object',
      additionalProperties: false,
      required: ['immediate', 'shortTerm', 'longTerm'],
      properties: { immediate: list, shortTerm: list, longTerm: list },
    },
    preventionMeasures: list,
  },
} as const;

const bounded = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength });
const boundedList = { type: 'array', maxItems: 10, items: bounded(1000) };

/** The same shape with the limits a usable report needs: nothing empty, nothing unbounded. */
const ANSWER_LIMITS = {
  ...ANSWER_SCHEMA,
  properties: {
    title: bounded(200),
    executiveSummary: bounded(4000),
    rootCauseAnalysis: bounded(8000),
    impactAssessment: bounded(4000),
    recommendedActions: {
      ...ANSWER_SCHEMA.properties.recommendedActions,
      properties: { immediate: { ...boundedList, minItems: 1 }, shortTerm: boundedList, longTerm: boundedList },
    },
    preventionMeasures: boundedList,
  },
};

const validate = new Ajv({ allErrors: true, strict: false }).compile<ModelAnswer>(ANSWER_LIMITS);

/** Parse and check the model's answer; the error message lists every problem with its path. */
export function parseModelAnswer(content: string | null | undefined): { ok: true; answer: ModelAnswer } | { ok: false; problem: string } {
  if (content === null || content === undefined || content.trim() === '') return { ok: false, problem: 'empty answer' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (err) {
    return { ok: false, problem: `answer is not JSON (${(err as Error).message})` };
  }
  if (validate(parsed)) return { ok: true, answer: parsed };
  const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`);
  return { ok: false, problem: `answer does not match the report schema: ${problems.slice(0, 5).join('; ')}` };
}
