"""Target rasters: dithering keeps density and structure, shipped targets, upload validation, PNG output."""

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from sgcore.targets import (
    IMAGE_FORMATS,
    MAX_PIXELS,
    RLE_BMP_MAX_PIXELS,
    TARGETS,
    WEBP_MAX_PIXELS,
    WORK_PIXELS,
    dither,
    floyd_steinberg,
    load_image,
    match_density,
    raster_png,
    resize_gray,
    target_raster,
    upload_raster,
    write_previews,
)

NAMES = list(TARGETS)
SIZES = [(200, 189), (60, 80)]


def _block_means(a, rows, cols):
    h, w = a.shape
    a = a[: h - h % rows, : w - w % cols].astype(np.float64)
    return a.reshape(rows, a.shape[0] // rows, cols, a.shape[1] // cols).mean(axis=(1, 3))


def _encode(im, fmt, **kw):
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png_header_only(width, height):
    """A syntactically valid PNG whose IHDR claims the given size (with an empty, useless IDAT)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b""))
            + _png_chunk(b"IEND", b""))


# --------------------------------------------------------------------------------------------------------------
# dithering


@pytest.mark.parametrize("density", [0.1, 0.25, 0.4])
def test_dither_shape_dtype_values_density_random_images(density):
    rng = np.random.default_rng(7)
    for shape, power in [((300, 410), 1.0), ((37, 23), 3.0), ((500, 120), 0.3)]:
        gray = rng.random(shape) ** power
        r = dither(gray, 200, 189, density)
        assert r.shape == (200, 189)
        assert r.dtype == np.uint8
        assert set(np.unique(r)) <= {0, 1}
        assert abs(r.mean() - density) < 0.03
        # In fact much closer: error diffusion conserves the ink up to a few spikes out of the last row.
        assert abs(r.mean() - density) < 0.002


@pytest.mark.parametrize("density", [0.1, 0.25, 0.4])
@pytest.mark.parametrize("level", [0.0, 0.5, 1.0])
def test_constant_image_spreads_density_evenly(level, density):
    r = dither(np.full((50, 70), level), 200, 189, density)
    assert abs(r.mean() - density) < 0.005
    blocks = _block_means(r, 10, 9)  # 20 x 21 cells each
    assert np.all(np.abs(blocks - density) < 0.05), blocks.min()
    # Every neuron (row) and time step (column) carries about the same count: the counts spread no more
    # than those of a Bernoulli raster would (plain Floyd-Steinberg fails this: at 25 % every other row is
    # nearly silent and the others fire at 50 %).
    for counts, n in ((r.sum(axis=1), r.shape[1]), (r.sum(axis=0), r.shape[0])):
        bernoulli_sd = np.sqrt(n * density * (1 - density))
        assert counts.min() > 0
        assert counts.std() < 1.2 * bernoulli_sd, (counts.std(), bernoulli_sd)


def test_dither_preserves_large_scale_structure():
    y, x = np.mgrid[0:400, 0:380] / 400.0
    gray = 0.5 + 0.45 * np.sin(6 * x) * np.cos(5 * y)
    levels = match_density(resize_gray(gray, 200, 189), 0.25)
    r = dither(gray, 200, 189, 0.25)
    err = np.abs(_block_means(r, 20, 21) - _block_means(levels, 20, 21))  # 10 x 9 cells
    assert err.max() < 0.06, err.max()
    # The structure is really there (not a flat field that trivially matches).
    assert _block_means(levels, 20, 21).std() > 0.1


def test_dither_rows_are_neurons_top_first():
    gray = np.zeros((100, 100))
    gray[:20] = 1.0  # ink in the top fifth only
    r = dither(gray, 50, 30, 0.2)
    assert r[:10].mean() > 0.9 and r[12:].sum() == 0


def test_match_density_is_exact_and_in_range():
    rng = np.random.default_rng(3)
    for g in [rng.random((40, 40)) ** 4, 1 - rng.random((40, 40)) ** 4, np.zeros((5, 5)), np.ones((5, 5))]:
        for d in (0.05, 0.25, 0.9):
            m = match_density(g, d)
            assert m.mean() == pytest.approx(d, abs=1e-12)
            assert m.min() >= 0 and m.max() <= 1
    # Darker than wanted: white stays white; lighter: black stays black.
    g = np.array([[0.0, 1.0, 1.0, 1.0]])
    assert match_density(g, 0.25)[0, 0] == 0.0
    g = np.array([[0.0, 0.0, 0.0, 1.0]])
    assert match_density(g, 0.5)[0, 3] == 1.0


def test_floyd_steinberg_thresholds_binary_input_unchanged():
    rng = np.random.default_rng(0)
    b = (rng.random((30, 40)) < 0.3).astype(np.uint8)
    assert np.array_equal(floyd_steinberg(b.astype(float)), b)


def test_fit_modes():
    gray = np.zeros((100, 300))
    gray[:, 100:200] = 1.0  # a dark square in the middle third
    stretch = resize_gray(gray, 60, 60, fit="stretch")
    crop = resize_gray(gray, 60, 60, fit="crop")
    pad = resize_gray(gray, 60, 60, fit="pad")
    assert stretch.mean() == pytest.approx(1 / 3, abs=0.02)
    assert crop.mean() == pytest.approx(1.0)  # the centre square only
    assert pad.mean() == pytest.approx(1 / 9, abs=0.02)  # a 20-row band, a third of it dark
    assert pad[:15].sum() == 0 and pad[-15:].sum() == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"density": 0.0}, r"density must be a finite number in \(0, 1\)"),
        ({"density": 1.0}, r"density must be a finite number in \(0, 1\)"),
        ({"density": float("nan")}, r"density must be a finite number in \(0, 1\)"),
        ({"n_neurons": True}, "n_neurons must be an integer >= 1"),
        ({"n_neurons": 0}, "n_neurons must be an integer >= 1"),
        ({"n_steps": 2.5}, "n_steps must be an integer >= 1"),
        ({"gray": np.zeros((3, 3, 3))}, "2-D"),
        ({"gray": np.full((3, 3), np.nan)}, "finite"),
        ({"fit": "zoom"}, "fit must be one of"),
    ],
)
def test_dither_rejects_bad_arguments(kwargs, match):
    args = {"gray": np.zeros((10, 10)), "n_neurons": 10, "n_steps": 10, "density": 0.25} | kwargs
    fit = args.pop("fit", "stretch")
    with pytest.raises(ValueError, match=match):
        dither(**args, fit=fit)


# --------------------------------------------------------------------------------------------------------------
# shipped targets


def test_registry():
    assert len(TARGETS) >= 3
    with pytest.raises(TypeError):
        TARGETS["x"] = TARGETS[NAMES[0]]  # read-only
    for name, t in TARGETS.items():
        assert t.name == name and t.label and t.description


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("n_neurons", "n_steps"), SIZES)
def test_target_raster(name, n_neurons, n_steps):
    gray = TARGETS[name].render(n_neurons, n_steps)
    assert gray.shape == (n_neurons, n_steps)
    assert gray.min() >= 0 and gray.max() <= 1
    r = target_raster(name, n_neurons, n_steps)
    assert r.shape == (n_neurons, n_steps) and r.dtype == np.uint8
    assert set(np.unique(r)) == {0, 1}
    assert abs(r.mean() - 0.25) < 0.03
    # Recognisable: a real picture with contrast, not a uniform texture. Coarse cells are mostly either
    # paper (nearly empty) or ink (dense), and the raster correlates with the drawing.
    cells = _block_means(r, 10, 10)
    assert cells.std() > 0.12
    assert np.corrcoef(r.ravel(), gray.ravel())[0, 1] > 0.5
    # Ink is not concentrated in a strip: at least 40 % of the neurons and time steps carry spikes.
    assert (r.sum(axis=1) > 0).mean() > 0.4 and (r.sum(axis=0) > 0).mean() > 0.4


@pytest.mark.parametrize("density", [0.1, 0.4])
def test_target_raster_other_densities(density):
    for name in NAMES:
        assert abs(target_raster(name, 60, 80, density).mean() - density) < 0.03


def test_target_raster_cached_read_only_and_validated():
    a = target_raster(NAMES[0], 60, 80)
    assert target_raster(NAMES[0], 60, 80) is a
    with pytest.raises(ValueError):
        a[0, 0] = 1
    with pytest.raises(ValueError, match="unknown target 'nope'; choose one of"):
        target_raster("nope", 60, 80)


def test_targets_differ():
    rasters = [target_raster(n, 60, 80).astype(float) for n in NAMES]
    for i in range(len(rasters)):
        for j in range(i):
            assert np.abs(rasters[i] - rasters[j]).mean() > 0.1


# --------------------------------------------------------------------------------------------------------------
# uploads


def _gradient_rgb():
    x = np.linspace(0, 255, 64)
    rgb = np.zeros((48, 64, 3), dtype=np.uint8)
    rgb[..., 0] = x[None, :].astype(np.uint8)
    rgb[..., 1] = 128
    rgb[:24, :, 2] = 255
    return rgb


def test_load_png_round_trip_exact():
    rgb = _gradient_rgb()
    g = load_image(_encode(Image.fromarray(rgb), "PNG"))
    expected = 1 - (rgb.astype(float) / 255) @ np.array([0.299, 0.587, 0.114])
    assert g.shape == (48, 64) and g.dtype == np.float64
    assert np.allclose(g, expected, atol=1e-12)


def test_load_grayscale_png_dark_is_one():
    gray = np.zeros((10, 20), dtype=np.uint8)
    gray[:, 10:] = 255
    g = load_image(_encode(Image.fromarray(gray), "PNG"))
    assert np.all(g[:, :10] == 1.0) and np.all(g[:, 10:] == 0.0)


def test_load_16_bit_png():
    a = np.array([[0, 32768, 65535]], dtype=np.uint16)
    g = load_image(_encode(Image.fromarray(a), "PNG"))
    assert np.allclose(g, [[1.0, 1 - 32768 / 65535, 0.0]])


def test_load_jpeg_round_trip_close():
    rgb = _gradient_rgb()
    g = load_image(_encode(Image.fromarray(rgb), "JPEG", quality=95))
    expected = 1 - (rgb.astype(float) / 255) @ np.array([0.299, 0.587, 0.114])
    assert g.shape == (48, 64)
    assert np.abs(g - expected).mean() < 0.02


@pytest.mark.parametrize("fmt", [f for f in ("GIF", "BMP", "WEBP") if f != "WEBP" or "WebP" in IMAGE_FORMATS])
def test_load_other_formats(fmt):
    gray = np.zeros((16, 16), dtype=np.uint8)
    gray[:8] = 255
    kw = {"lossless": True} if fmt == "WEBP" else {}
    g = load_image(_encode(Image.fromarray(gray).convert("RGB"), fmt, **kw))
    assert g.shape == (16, 16)
    assert g[:8].max() < 0.05 and g[8:].min() > 0.95


def test_load_gif_first_frame():
    first = Image.new("L", (8, 8), 0)
    second = Image.new("L", (8, 8), 255)
    data = _encode(first, "GIF", save_all=True, append_images=[second])
    assert np.all(load_image(data) > 0.95)


def test_load_applies_exif_orientation():
    gray = np.full((10, 20), 255, dtype=np.uint8)
    gray[:, :10] = 0  # left half black, stored landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    g = load_image(_encode(Image.fromarray(gray), "JPEG", quality=95, exif=exif))
    assert g.shape == (20, 10)  # displayed portrait, the black half on top
    assert g[:8].mean() > 0.9 and g[12:].mean() < 0.1


def test_load_rgba_transparency_composited_on_white():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)  # black everywhere ...
    rgba[:, :5, 3] = 0  # ... but the left half fully transparent
    rgba[:, 5:, 3] = 255  # right half opaque black
    rgba[0, 9, 3] = 128  # one half-transparent black pixel
    g = load_image(_encode(Image.fromarray(rgba, mode="RGBA"), "PNG"))
    assert np.all(g[:, :5] == 0.0)  # white paper
    assert g[1, 9] == 1.0
    assert g[0, 9] == pytest.approx(128 / 255)


def test_load_palette_transparency():
    im = Image.new("P", (4, 4), 0)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    data = _encode(im, "PNG", transparency=0)  # the only colour (black) is transparent
    assert np.all(load_image(data) == 0.0)


def test_upload_raster():
    gray = np.full((100, 120), 255, dtype=np.uint8)
    gray[20:80, 20:100] = 0  # a black rectangle (40 % of the picture) on white
    data = _encode(Image.fromarray(gray), "PNG")
    r = upload_raster(data, 60, 80, 0.25)
    assert r.shape == (60, 80) and r.dtype == np.uint8
    assert abs(r.mean() - 0.25) < 0.03
    assert r[:11].sum() == 0 and r[-11:].sum() == 0  # the white paper stays silent
    assert r[14:46, 15:65].mean() == pytest.approx(0.25 / 0.4, abs=0.03)  # the ink is lightened to 62.5 %
    # Inverted: the white frame (60 %) spikes, the rectangle is silent.
    inv = upload_raster(data, 60, 80, 0.25, invert=True)
    assert abs(inv.mean() - 0.25) < 0.03 and inv[14:46, 15:65].sum() == 0
    assert inv[:11].mean() == pytest.approx(0.25 / 0.6, abs=0.05)


@pytest.mark.parametrize(
    ("data", "kwargs", "match"),
    [
        (b"", {}, r"^upload is empty \(0 bytes\); expected a PNG, JPEG, GIF, BMP"),
        (bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)), {},
         r"^upload is not a PNG, JPEG, GIF, BMP( or|,) "),
        (b"name,value\nalpha,1\nbeta,2\n", {}, r"^upload is not a PNG, JPEG, GIF, BMP"),
        (b"%PDF-1.4\n" + b"x" * 100, {}, r"^upload is not a PNG, JPEG, GIF, BMP"),
        (b"\x00" * 3_000_000, {}, r"^image must be at most 2\.0 MB; got 3\.0 MB$"),
        (b"\x89PNG" + b"\x00" * 1500, {"max_bytes": 1000}, r"^image must be at most 1\.0 kB; got 1\.5 kB$"),
        (_png_header_only(0, 10), {}, r"^image has zero size \(0 x 10 pixels\)"),
        (_png_header_only(100_000, 100_000), {}, r"^image has too many pixels \(100000 x 100000 = 10,000,000,000\); "
                                                 r"at most 12,582,912 pixels allowed$"),
    ],
    ids=["empty", "random-bytes", "text", "pdf", "oversized", "oversized-small-limit", "zero-size", "bomb-header"],
)
def test_load_image_rejects(data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_image(data, **kwargs)


def test_load_image_rejects_other_image_formats():
    tiff = _encode(Image.new("L", (8, 8)), "TIFF")
    with pytest.raises(ValueError, match=r"^upload is not a PNG, JPEG, GIF, BMP"):
        load_image(tiff)


def test_load_image_rejects_truncated_png():
    data = _encode(Image.fromarray(_gradient_rgb()), "PNG")
    for cut in (len(data) // 2, 40):
        with pytest.raises(ValueError, match=r"^PNG image is truncated or corrupt and cannot be decoded"):
            load_image(data[:cut])


def test_load_image_rejects_truncated_jpeg():
    data = _encode(Image.fromarray(_gradient_rgb()), "JPEG")
    with pytest.raises(ValueError, match=r"^JPEG image is truncated or corrupt"):
        load_image(data[: len(data) // 3])


def test_load_image_max_pixels():
    data = _encode(Image.new("L", (50, 40)), "PNG")
    assert load_image(data, max_pixels=2000).shape == (40, 50)
    with pytest.raises(ValueError, match=r"^image has too many pixels \(50 x 40 = 2,000\); at most 1,999 pixels"):
        load_image(data, max_pixels=1999)
    jpeg = _encode(Image.new("L", (50, 40)), "JPEG")  # size checked after Pillow reads the header
    with pytest.raises(ValueError, match=r"^image has too many pixels \(50 x 40 = 2,000\)"):
        load_image(jpeg, max_pixels=1999)


def test_load_image_pillow_bomb_guard(monkeypatch):
    # A JPEG's size is not sniffed by us, so Pillow's own guard fires first; its error becomes a ValueError.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    jpeg = _encode(Image.new("L", (50, 40)), "JPEG")
    with pytest.raises(ValueError, match=r"^image has too many pixels \(possible decompression bomb\); at most 200 "):
        load_image(jpeg)


# --- bounded decode cost: big pictures are reduced while decoding, bigger ones refused before decoding ------

#: CPU seconds any accepted upload may cost here (measured: at most about 0.25 s for the worst cases).
DECODE_BUDGET_S = 1.0


def _cpu(fn, *args, **kwargs):
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t0


def _smooth(h, w):
    y, x = np.mgrid[0:h, 0:w]
    return ((np.sin(x / 300.0) + np.cos(y / 200.0)) * 60 + 128).astype(np.uint8)


def _png_stream(width, height, row, bitdepth=8, colortype=0):
    """A valid PNG whose rows are all ``row`` (filter byte included), built without a full-size buffer.

    Blocks of identical rows compress (after a full flush) to identical bytes: one block is compressed once and
    repeated, and the zlib checksum is computed block by block.
    """
    rows = max(1, (1 << 22) // len(row))
    n, rest = divmod(height, rows)
    block = row * rows
    co = zlib.compressobj(6, zlib.DEFLATED, -15)  # raw deflate; the zlib header and checksum are added below
    unit = co.compress(block) + co.flush(zlib.Z_FULL_FLUSH)
    tail = co.compress(row * rest) + co.flush()
    adler = 1
    for _ in range(n):
        adler = zlib.adler32(block, adler)
    adler = zlib.adler32(row * rest, adler)
    idat = b"\x78\x9c" + unit * n + tail + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, bitdepth, colortype, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def test_png_stream_helper_is_a_valid_png():
    data = _png_stream(3_000, 3_000, b"\x00" + bytes(range(150)) * 20)  # two repeated blocks and a rest
    with Image.open(io.BytesIO(data)) as im:
        a = np.asarray(im)
    assert a.shape == (3_000, 3_000) and np.all(a == np.tile(np.arange(150, dtype=np.uint8), 20)[None, :])


def test_large_png_at_the_cap_is_reduced_while_decoding():
    h, w = 3072, 4096  # exactly MAX_PIXELS
    assert h * w == MAX_PIXELS
    x = np.arange(w)
    g = (np.sin(x / 300.0) * 100 + 128).astype(np.uint8)
    rgba = np.stack([g, 255 - g, g // 2, np.where(x < w // 2, 255, 0)], axis=-1).astype(np.uint8)  # (w, 4)
    data = _png_stream(w, h, b"\x00" + rgba.tobytes(), colortype=6)  # every row the same; right half transparent
    assert len(data) <= 2_000_000
    gray, cpu = _cpu(load_image, data)
    assert cpu < DECODE_BUDGET_S, f"decoding a {w} x {h} PNG cost {cpu:.2f} s of CPU"
    assert gray.shape == (768, 1024) and gray.size <= WORK_PIXELS
    assert np.all(gray[:, 512:] == 0.0)  # the transparent half is white paper
    expected = 1 - (rgba[: w // 2, :3].astype(float) / 255) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(gray[:, :512] - expected.reshape(512, 4).mean(axis=1)[None, :]).max() < 0.01  # a box average
    r, cpu = _cpu(upload_raster, data, 200, 189)
    assert r.shape == (200, 189) and cpu < DECODE_BUDGET_S


def test_large_jpeg_is_decoded_at_reduced_scale_and_upright():
    h, w = 3024, 4032  # a 12-megapixel phone photo
    gray = np.full((h, w), 255, dtype=np.uint8)
    gray[:, : w // 2] = 0  # left half black, stored landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    data = _encode(Image.fromarray(gray).convert("RGB"), "JPEG", quality=80, exif=exif)
    g, cpu = _cpu(load_image, data)
    assert cpu < DECODE_BUDGET_S, f"decoding a {w} x {h} JPEG cost {cpu:.2f} s of CPU"
    assert g.shape[0] > g.shape[1] and g.size <= WORK_PIXELS  # portrait, reduced
    assert abs(g.shape[0] / g.shape[1] - w / h) < 0.01
    top, bottom = g[: g.shape[0] // 2 - 8], g[g.shape[0] // 2 + 8 :]
    assert top.mean() > 0.95 and bottom.mean() < 0.05  # the black half on top


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA", "LA", "P", "P-transparent", "I;16", "1"])
def test_reduced_decoding_matches_the_exact_path(mode):
    # A small work size exercises the reducing path cheaply; it must agree with the exact path's levels.
    rng = np.random.default_rng(3)
    base = _smooth(240, 360)
    if mode in ("RGB", "RGBA"):
        arr = np.dstack([base, 255 - base, base // 2] + ([rng.integers(0, 256, base.shape, dtype=np.uint8)]
                                                          if mode == "RGBA" else []))
        im = Image.fromarray(arr, mode=mode)
    elif mode == "LA":
        im = Image.fromarray(np.dstack([base, 255 - base]), mode="LA")
    elif mode.startswith("P"):
        im = Image.fromarray(np.dstack([base, 255 - base, base // 2])).quantize(32)
    elif mode == "I;16":
        im = Image.fromarray(base.astype(np.uint16) * 257)
    elif mode == "1":
        im = Image.fromarray(base).convert("1")
    else:
        im = Image.fromarray(base)
    kw = {"transparency": 3} if mode == "P-transparent" else {}
    data = _encode(im, "PNG", **kw)
    exact = load_image(data)
    assert exact.shape == (240, 360)
    reduced = load_image(data, work_pixels=5_000)
    assert reduced.size <= 5_000 and reduced.shape == (48, 72)  # factor 5
    box = exact.reshape(48, 5, 72, 5).mean(axis=(1, 3))
    assert np.abs(reduced - box).max() < 0.01


def test_bomb_png_is_refused_from_its_header_without_decoding():
    # 20000 x 20000 grey pixels (400 MB decoded) in about 0.4 MB: refused before a pixel is decoded
    data = _png_stream(20_000, 20_000, bytes(20_001))
    assert len(data) < 2_000_000
    t0 = time.process_time()
    with pytest.raises(ValueError, match=r"^image has too many pixels \(20000 x 20000 = 400,000,000\); at most "
                                         r"12,582,912 pixels allowed$"):
        load_image(data)
    assert time.process_time() - t0 < 0.1


def _jpeg_claiming(width, height):
    """A real tiny JPEG whose frame header (SOF0) is patched to claim ``width`` x ``height``."""
    data = bytearray(_encode(Image.new("L", (8, 8), 128), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(("size", "match"), [
    ((6000, 6000), r"^image has too many pixels \(6000 x 6000 = 36,000,000\); at most 12,582,912 pixels allowed$"),
    ((65000, 65000), r"^image has too many pixels \(possible decompression bomb\); at most 12,582,912 pixels"),
    ((4097, 3072), r"^image has too many pixels \(4097 x 3072 = 12,585,984\); at most 12,582,912 pixels allowed$"),
], ids=["over-cap", "pillow-bomb", "one-column-over"])
def test_bomb_jpeg_header_is_refused_before_decoding(size, match):
    data = _jpeg_claiming(*size)
    t0 = time.process_time()
    with pytest.raises(ValueError, match=match):
        load_image(data)
    assert time.process_time() - t0 < 0.1


@pytest.mark.skipif("WebP" not in IMAGE_FORMATS, reason="this Pillow has no WebP")
def test_webp_has_a_lower_cap():
    data = _encode(Image.new("L", (2049, 2048), 200), "WEBP", lossless=True)
    with pytest.raises(ValueError, match=r"^WebP image has too many pixels \(2049 x 2048 = 4,196,352\); at most "
                                         rf"{WEBP_MAX_PIXELS:,} pixels allowed for WebP \(save the picture as PNG"):
        load_image(data)
    small = _encode(Image.new("L", (2048, 2048), 200), "WEBP", lossless=True)
    g, cpu = _cpu(load_image, small)
    assert g.shape == (1024, 1024) and cpu < DECODE_BUDGET_S


def _bmp_rle8(width, height):
    """An RLE8 BMP (runs of at most 255 pixels of grey 0 / 255 per row)."""
    pal = b"".join(bytes((i, i, i, 0)) for i in range(256))
    row = bytearray()
    left, colour = width, 0
    while left > 0:
        n = min(255, left)
        row += bytes((n, colour))
        left, colour = left - n, colour ^ 255
    pix = bytes(row + b"\x00\x00") * height + b"\x00\x01"
    off = 14 + 40 + len(pal)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(pix), 2835, 2835, 256, 0)
    return b"BM" + struct.pack("<IHHI", off + len(pix), 0, 0, off) + info + pal + pix


def test_rle_bmp_has_a_lower_cap():
    assert load_image(_bmp_rle8(512, 512)).shape == (512, 512)  # RLE_BMP_MAX_PIXELS exactly
    assert 512 * 512 == RLE_BMP_MAX_PIXELS
    with pytest.raises(ValueError, match=r"^run-length-encoded BMP image has too many pixels \(600 x 600 = "
                                         r"360,000\); at most 262,144 pixels allowed for run-length-encoded BMP"):
        load_image(_bmp_rle8(600, 600))


def test_load_image_rejects_non_bytes():
    with pytest.raises(TypeError, match="data must be bytes"):
        load_image("picture.png")


# --------------------------------------------------------------------------------------------------------------
# PNG output


@pytest.mark.parametrize("scale", [1, 3])
def test_raster_png_round_trip(scale):
    r = target_raster(NAMES[0], 60, 80)
    data = raster_png(r, scale=scale)
    assert data.startswith(b"\x89PNG")
    im = Image.open(io.BytesIO(data))
    assert im.size == (80 * scale, 60 * scale)
    back = (np.asarray(im.convert("L")) < 128).astype(np.uint8)  # spikes are black
    assert np.array_equal(back[::scale, ::scale], r)
    assert np.array_equal(back, np.kron(r, np.ones((scale, scale), dtype=np.uint8)))


def test_raster_png_rejects_non_binary():
    with pytest.raises(ValueError, match="only 0 and 1"):
        raster_png(np.full((3, 3), 2))


def test_write_previews(tmp_path):
    paths = write_previews(tmp_path, n_neurons=30, n_steps=40, scale=2)
    assert [p.name for p in paths] == [f"{n}.png" for n in NAMES]
    for p, name in zip(paths, NAMES, strict=True):
        with Image.open(p) as im:
            assert im.size == (80, 60)
            back = (np.asarray(im.convert("L"))[::2, ::2] < 128).astype(np.uint8)
        assert np.array_equal(back, target_raster(name, 30, 40))
