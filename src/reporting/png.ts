/**
 * SVG → PNG for slides, with resvg (no browser). No font is shipped: system fonts are loaded and DejaVu Sans is the
 * default family (Debian's fonts-dejavu-core), so a PNG is repeatable on machines with the same fonts installed.
 */
import { Resvg } from '@resvg/resvg-js';
import { AppError } from '../core/errors.ts';

/** The 8-byte signature every PNG file starts with. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Renders an SVG document to PNG bytes at `scale` × its size in CSS pixels (default 2, sharp on slides). */
export function svgToPng(svg: string, scale = 2): Buffer {
  if (!(scale > 0 && scale <= 8)) throw new AppError('config', `The PNG scale must be in (0, 8], not ${scale}.`, { context: { scale } });
  try {
    const r = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: scale },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    });
    return r.render().asPng();
  } catch (e) {
    throw new AppError('internal', `resvg could not render a chart SVG to PNG: ${(e as Error).message}.`, { cause: e });
  }
}
