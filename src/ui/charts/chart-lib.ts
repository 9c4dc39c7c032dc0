// chart.js with only the parts the page uses (tree-shaken: line charts on linear axes, legend,
// tooltip, and the decimation plugin, so that a 1000-iteration run draws about 200 points per
// line). A chunk of its own, loaded by chart-setup's chartOrLater when the first chart comes near
// the viewport: it is 61 kB gzip, more than a third of the page's main-thread code, and no chart
// is on the first screen (issue 11: main-thread bundle, cold start).
import { Chart, Decimation, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip, Decimation);

export { Chart };
