// Mounting a uPlot chart that follows its container's width: shared by every chart component.
import uPlot from "uplot";

/** Creates the chart in `host` and keeps it as wide as `host`; call `destroy` on unmount. */
export function mountResponsivePlot(
  host: HTMLElement,
  height: number,
  options: (width: number) => uPlot.Options,
  data: uPlot.AlignedData,
): { plot: uPlot; destroy: () => void } {
  const plot = new uPlot(options(Math.max(200, host.clientWidth)), data, host);
  const observer = new ResizeObserver(() => {
    if (host.clientWidth > 0) plot.setSize({ width: host.clientWidth, height });
  });
  observer.observe(host);
  return {
    plot,
    destroy: () => {
      observer.disconnect();
      plot.destroy();
    },
  };
}
