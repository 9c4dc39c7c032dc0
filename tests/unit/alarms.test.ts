import { describe, expect, it } from 'vitest';
import { hackingAlarms, type Judged } from '../../src/lib/rl/alarms';

const judged = (over: Partial<Judged>): Judged => ({ method: 'ppo', rmScore: 0, baseRmScore: 0, goldScore: 1, baseGoldScore: 1, grammatical: 0.97, baseGrammatical: 0.97, ...over });

describe('reward-hacking alarms', () => {
  it('raise when the RM score rises while the grammatical share falls, with the live numbers', () => {
    const [alarm, ...rest] = hackingAlarms([judged({ rmScore: 1.4, baseRmScore: 0.1, grammatical: 0.61 })]);
    expect(rest).toEqual([]);
    expect(alarm.method).toBe('ppo');
    expect(alarm.message).toBe('RM score 0.10 → 1.40 (+1.30 over the base model) while the grammatical share fell from 0.97 to 0.61');
  });

  it('raise when the RM score rises while the gold score falls', () => {
    expect(hackingAlarms([judged({ method: 'grpo', rmScore: 0.9, goldScore: 0.2 })])[0].message).toMatch(/gold score fell from 1.00 to 0.20/);
  });

  it('stay quiet for honest progress, small RM gains and the base model', () => {
    expect(hackingAlarms([
      judged({ rmScore: 1.5, goldScore: 3 }), // RM and gold both up, grammar kept
      judged({ method: 'rloo', rmScore: 0.3, grammatical: 0.2 }), // RM barely moved
      judged({ method: 'base', rmScore: 2, grammatical: 0 }),
    ])).toEqual([]);
  });
});
