/**
 * JSON Schemas of the parameter store's public documents, generated from the zod schemas in record.ts (never
 * written by hand): what `liqcal params schema` prints and what updaters validate against.
 */
import { z } from 'zod';
import { ProposalDraftsSchema, UpdateRecordSchema } from './record.ts';

/** The JSON Schema (draft 2020-12) of one stored update record. */
export function updateRecordJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(UpdateRecordSchema, { target: 'draft-2020-12' }), title: 'liqcal parameter update record', $id: 'https://liqcal/schemas/update-record.json' };
}

/** The JSON Schema of a proposal file (`params propose --file`): an array of drafts. */
export function proposalFileJsonSchema(): Record<string, unknown> {
  return { ...z.toJSONSchema(ProposalDraftsSchema, { target: 'draft-2020-12' }), title: 'liqcal proposal file', $id: 'https://liqcal/schemas/proposal-file.json' };
}
