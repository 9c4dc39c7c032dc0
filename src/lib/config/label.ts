// A preference label, the unit of everything a person gives the page: its type and the valibot
// schema that every label entering from outside (storage, a file, a link) is checked against.
import * as v from 'valibot';

export const CHOICES = ['A', 'B', 'tie', 'skip'] as const;
export const LABEL_SOURCES = ['human', 'simulated'] as const;
export type Choice = (typeof CHOICES)[number];
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** One label as the page stores and sends it: the schema every stored or received label is checked against. */
export const LabelSchema = v.object({
  id: v.pipe(v.string(), v.nonEmpty()),
  prompt: v.string(),
  completionA: v.string(),
  completionB: v.string(),
  choice: v.picklist(CHOICES),
  source: v.picklist(LABEL_SOURCES),
  time: v.pipe(v.number(), v.finite()), // ms since epoch
});

export type Label = v.InferOutput<typeof LabelSchema>;
