// A preference label, the unit of everything a person gives the page: its type and the valibot
// schema that every label entering from outside (storage, a file, a link) is checked against.
import * as v from 'valibot';

export const CHOICES = ['A', 'B', 'tie', 'skip'] as const;
export const LABEL_SOURCES = ['human', 'simulated'] as const;
export type Choice = (typeof CHOICES)[number];
export type LabelSource = (typeof LABEL_SOURCES)[number];

/** The model that wrote a labelled pair: 'base' or a method's name, after `steps` of its steps (rounds.ts's PairOrigin). */
export const LabelOriginSchema = v.object({
  from: v.pipe(v.string(), v.nonEmpty()),
  steps: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

/** One label as the page stores and sends it: the schema every stored or received label is checked against. */
export const LabelSchema = v.object({
  id: v.pipe(v.string(), v.nonEmpty()),
  prompt: v.string(),
  completionA: v.string(),
  completionB: v.string(),
  choice: v.picklist(CHOICES),
  source: v.picklist(LABEL_SOURCES),
  time: v.pipe(v.number(), v.finite()), // ms since epoch
  /** The simulated annotator's preset (absent for a person, and for labels older than the field). */
  preset: v.optional(v.pipe(v.string(), v.nonEmpty())),
  /** Who wrote the pair (absent when unknown: labels older than the field, or imported without it). */
  origin: v.optional(LabelOriginSchema),
});

export type Label = v.InferOutput<typeof LabelSchema>;
export type LabelOrigin = v.InferOutput<typeof LabelOriginSchema>;

/**
 * Largest label file the page reads, checked on the file's size before reading it: a class of 100
 * students x 200 labels is about 4 MB of JSONL (~200 bytes a line); a 20 MB file (217,836 labels)
 * filled the browser's storage and lost every label after a reload (issue 12).
 */
export const MAX_IMPORT_BYTES = 8 * 1024 * 1024;
