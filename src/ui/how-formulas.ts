// The formulas of "How it works", as TeX. They are rendered to MathML by Temml at build time
// (src/scripts/mathml-plugin.ts serves them as the module 'virtual:how-mathml'), so the page ships
// MathML and no renderer. Each one says what the code does, not the textbook's variant:
// - bt-*: src/lib/rl/reward-model.ts (bradleyTerryLoss) and preferences.ts (ties: both orders at 1/2);
//   the score is summed over the completion's tokens (model/heads.ts completionScore).
// - objective, kl-seq, adaptive: ppo.ts / group-trainer.ts (k1 summed per sequence; ppo-math adaptKlCoef).
// - ppo-*: ppo-math.ts computeRewards, gae, whiten, policyLoss, valueLoss.
// - grpo-*: group-math.ts groupAdvantages (std + 1e-4, scale_rewards) and methods/grpo.ts (k3 per token,
//   loss_type "dapo": summed over the batch's completion tokens, divided by their number).
// - rloo-*: methods/rloo.ts (KL folded into the reward, whole-sequence ratio) and leaveOneOutAdvantages.
// - dpo-*: dpo.ts dpoLosses (sigmoid loss, weighted mean).
// - sft-loss: sft.ts (TRL's completion-only loss: mean NLL over the batch's completion tokens).
// - bon-*: best-of-n.ts bestOfNKl.
// vite.config.ts imports this table, so `npm run dev` restarts by itself when it changes.

export const FORMULAS = {
  'bt-prob': String.raw`P(y_A \succ y_B \mid x) = \sigma\big(r(x, y_A) - r(x, y_B)\big), \qquad \sigma(z) = \frac{1}{1 + e^{-z}}`,
  'bt-score': String.raw`r(x, y) = \sum_{t=1}^{|y|} s_\phi\big(x, y_{\le t}\big)`,
  'bt-loss': String.raw`\mathcal{L}_{\mathrm{BT}}(\phi) = -\frac{1}{\sum_i w_i} \sum_i w_i \log \sigma\big(r(x_i, y_i^{+}) - r(x_i, y_i^{-})\big)`,
  objective: String.raw`\max_{\pi_\theta} \; \mathbb{E}_{x,\; y \sim \pi_\theta(\cdot \mid x)}\big[r(x, y)\big] \;-\; \beta \, \mathrm{KL}\big(\pi_\theta(\cdot \mid x) \,\|\, \pi_{\mathrm{ref}}(\cdot \mid x)\big)`,
  'kl-seq': String.raw`\mathrm{KL} \approx \sum_{t=1}^{|y|} \Big(\log \pi_\theta(y_t \mid x, y_{<t}) - \log \pi_{\mathrm{ref}}(y_t \mid x, y_{<t})\Big)`,
  adaptive: String.raw`\beta \leftarrow \max\!\Big(\beta_{\min},\; \beta \Big(1 + \tfrac{1}{H} \operatorname{clip}\big(\tfrac{\mathrm{KL}}{\mathrm{KL}_{\mathrm{target}}} - 1,\, -0.2,\, 0.2\big)\Big)\Big)`,
  'ppo-reward': String.raw`r_t = -\beta \big(\log \pi_\theta(y_t \mid \cdot) - \log \pi_{\mathrm{ref}}(y_t \mid \cdot)\big) + \begin{cases} r(x, y) & t = |y| \\ 0 & \text{otherwise} \end{cases}`,
  'ppo-gae': String.raw`\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t), \qquad \hat{A}_t = \delta_t + \gamma \lambda \hat{A}_{t+1}`,
  'ppo-clip': String.raw`L^{\mathrm{CLIP}}(\theta) = -\mathbb{E}_t\Big[\min\big(\rho_t \hat{A}_t,\; \operatorname{clip}(\rho_t, 1 - \epsilon, 1 + \epsilon)\, \hat{A}_t\big)\Big], \qquad \rho_t = \frac{\pi_\theta(y_t \mid \cdot)}{\pi_{\mathrm{old}}(y_t \mid \cdot)}`,
  'ppo-value': String.raw`L^{V} = \tfrac{1}{2}\, \mathbb{E}_t\Big[\max\big((V_t - R_t)^2,\; (\operatorname{clip}(V_t, V^{\mathrm{old}}_t - \epsilon_V, V^{\mathrm{old}}_t + \epsilon_V) - R_t)^2\big)\Big], \qquad R_t = \hat{A}_t + V^{\mathrm{old}}_t`,
  'grpo-adv': String.raw`\hat{A}_i = \frac{r_i - \operatorname{mean}(r_1, \dots, r_G)}{\operatorname{std}(r_1, \dots, r_G) + 10^{-4}}`,
  'grpo-loss': String.raw`\mathcal{L}(\theta) = \frac{1}{\sum_i |y_i|} \sum_{i=1}^{G} \sum_{t=1}^{|y_i|} \Big[-\min\big(\rho_{i,t} \hat{A}_i,\; \operatorname{clip}(\rho_{i,t}, 1 - \epsilon, 1 + \epsilon)\, \hat{A}_i\big) + \beta\, \mathbb{D}_{i,t}\Big]`,
  'grpo-k3': String.raw`\mathbb{D}_{i,t} = \frac{\pi_{\mathrm{ref}}(y_{i,t} \mid \cdot)}{\pi_\theta(y_{i,t} \mid \cdot)} - \log \frac{\pi_{\mathrm{ref}}(y_{i,t} \mid \cdot)}{\pi_\theta(y_{i,t} \mid \cdot)} - 1 \;\ge\; 0`,
  'rloo-reward': String.raw`r_i = r(x, y_i) - \beta\, \mathrm{KL}_i`,
  'rloo-adv': String.raw`\hat{A}_i = r_i - \frac{1}{K - 1} \sum_{j \ne i} r_j`,
  'rloo-loss': String.raw`\mathcal{L}(\theta) = -\frac{1}{B} \sum_{i=1}^{B} \min\big(\rho_i \hat{A}_i,\; \operatorname{clip}(\rho_i, 1 - \epsilon, 1 + \epsilon)\, \hat{A}_i\big), \qquad \rho_i = \frac{\pi_\theta(y_i \mid x)}{\pi_{\mathrm{old}}(y_i \mid x)}`,
  'dpo-loss': String.raw`\mathcal{L}_{\mathrm{DPO}}(\theta) = -\frac{1}{\sum_i w_i} \sum_i w_i \log \sigma\Big(\beta \log \frac{\pi_\theta(y_i^{+} \mid x_i)}{\pi_{\mathrm{ref}}(y_i^{+} \mid x_i)} - \beta \log \frac{\pi_\theta(y_i^{-} \mid x_i)}{\pi_{\mathrm{ref}}(y_i^{-} \mid x_i)}\Big)`,
  'dpo-reward': String.raw`\hat{r}(x, y) = \beta \log \frac{\pi_\theta(y \mid x)}{\pi_{\mathrm{ref}}(y \mid x)}`,
  'sft-loss': String.raw`\mathcal{L}_{\mathrm{SFT}}(\theta) = -\frac{1}{\sum_i |y_i|} \sum_i \sum_{t=1}^{|y_i|} \log \pi_\theta\big(y_{i,t} \mid x_i, y_{i,<t}\big)`,
  'bon-pick': String.raw`y^{\star} = \operatorname*{arg\,max}_{y \in \{y_1, \dots, y_N\}} r(x, y), \qquad y_j \sim \pi_{\mathrm{ref}}(\cdot \mid x)`,
  'bon-kl': String.raw`\mathrm{KL}\big(\pi_{\mathrm{BoN}} \,\|\, \pi_{\mathrm{ref}}\big) \;\le\; \log N - \frac{N - 1}{N}`,
} as const;

export type FormulaKey = keyof typeof FORMULAS;
