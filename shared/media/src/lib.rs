//! Pixels for uploaded photos.
//!
//! [`probe`] sniffs the real format from magic bytes and reads the dimensions from the header
//! only, refusing oversized images before any pixel is decoded. [`render`] then decodes (JPEG
//! DCT-scaled to the smallest scale that still covers every requested size), applies the EXIF
//! orientation, cover-crops around the centre to exact sizes (smaller sources are scaled up)
//! and encodes lossy WEBP at quality 80.
//!
//! Colour: greyscale and CMYK become RGB. Alpha (RGBA / grey+alpha PNG, WEBP with alpha) is
//! kept: resizing premultiplies it and the WEBP carries it (libwebp drops a fully opaque
//! alpha plane by itself). 16-bit sources are reduced to 8 bits. Animated WEBP: first frame.
//! No colour management: ICC profiles are ignored, pixels are treated as sRGB.

use std::io::Cursor;

use fast_image_resize as fir;
use image::metadata::Orientation;
use image::{DynamicImage, ImageBuffer, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};

/// Image formats accepted for upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub fn mime(&self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    pub fn extension(&self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }
}

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// Format from magic bytes only (file names and declared content types are not trusted).
pub fn sniff(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(&PNG_SIGNATURE) {
        Some(Format::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(Format::Webp)
    } else {
        None
    }
}

/// Longest accepted side, in pixels.
pub const MAX_SIDE: u32 = 8000;
/// Most pixels accepted (width × height).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Second guard while decoding: the most a decoder may allocate.
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// What the header says. Width and height are as stored, before EXIF orientation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

#[derive(thiserror::Error, Debug)]
pub enum MediaError {
    /// Not JPEG, PNG or WEBP by magic bytes.
    #[error("unsupported image format")]
    Unsupported,
    /// More than [`MAX_SIDE`] on a side or more than [`MAX_PIXELS`] in all.
    #[error("image too large: {width}x{height}")]
    TooLarge { width: u32, height: u32 },
    /// Truncated, undecodable, or the header is unreadable.
    #[error("corrupt image: {0}")]
    Corrupt(String),
    /// WEBP encoding (or the resize feeding it) failed.
    #[error("webp encoding failed: {0}")]
    Encode(String),
}

/// Header only: sniff + dimensions + limits. Never decodes pixels.
pub fn probe(bytes: &[u8]) -> Result<Probe, MediaError> {
    let format = sniff(bytes).ok_or(MediaError::Unsupported)?;
    let (width, height) = match format {
        Format::Jpeg => jpeg_dimensions(bytes)?,
        Format::Png => png_dimensions(bytes)?,
        Format::Webp => webp_dimensions(bytes)?,
    };
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt(format!("zero dimension {width}x{height}")));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(MediaError::TooLarge { width, height });
    }
    Ok(Probe { format, width, height })
}

fn jpeg_dimensions(bytes: &[u8]) -> Result<(u32, u32), MediaError> {
    // read_info stops right after the frame header (SOF).
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(|e| MediaError::Corrupt(format!("jpeg header: {e}")))?;
    let info = decoder.info().ok_or_else(|| MediaError::Corrupt("jpeg header: no frame".into()))?;
    Ok((u32::from(info.width), u32::from(info.height)))
}

fn png_dimensions(bytes: &[u8]) -> Result<(u32, u32), MediaError> {
    // IHDR must be the first chunk. Parsed by hand because the png crate reads on to the
    // first IDAT before reporting anything.
    let ihdr = bytes.get(8..24).ok_or_else(|| MediaError::Corrupt("png header truncated".into()))?;
    if ihdr[0..4] != [0, 0, 0, 13] || &ihdr[4..8] != b"IHDR" {
        return Err(MediaError::Corrupt("png: first chunk is not IHDR".into()));
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Ok((be(&ihdr[8..12]), be(&ihdr[12..16])))
}

fn webp_dimensions(bytes: &[u8]) -> Result<(u32, u32), MediaError> {
    // The first chunk after "WEBP" carries the size (RFC 9649). Parsed by hand: image-webp
    // also wants the image chunk to be present, which a lying header need not have.
    let short = || MediaError::Corrupt("webp header truncated".into());
    let chunk = bytes.get(12..16).ok_or_else(short)?;
    let payload = &bytes[20.min(bytes.len())..];
    let le24 = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], 0]);
    match chunk {
        b"VP8X" => {
            let p = payload.get(..10).ok_or_else(short)?;
            Ok((le24(&p[4..7]) + 1, le24(&p[7..10]) + 1))
        }
        b"VP8L" => {
            let p = payload.get(..5).ok_or_else(short)?;
            if p[0] != 0x2F {
                return Err(MediaError::Corrupt("webp: bad VP8L signature".into()));
            }
            let bits = u32::from_le_bytes([p[1], p[2], p[3], p[4]]);
            Ok(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8 " => {
            let p = payload.get(..10).ok_or_else(short)?;
            if p[3..6] != [0x9D, 0x01, 0x2A] {
                return Err(MediaError::Corrupt("webp: bad VP8 start code".into()));
            }
            let le14 = |b: &[u8]| u32::from(u16::from_le_bytes([b[0], b[1]]) & 0x3FFF);
            Ok((le14(&p[6..8]), le14(&p[8..10])))
        }
        _ => Err(MediaError::Corrupt("webp: unknown first chunk".into())),
    }
}

/// A target size. Output is exactly this size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

/// Group card image.
pub const CARD: Size = Size { width: 440, height: 240 };
/// Thumbnail.
pub const THUMB: Size = Size { width: 100, height: 100 };

/// One encoded output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    pub webp: Vec<u8>,
}

/// WEBP quality used for every variant.
pub const WEBP_QUALITY: f32 = 80.0;

/// Probe, decode (JPEG DCT-scaled), apply EXIF orientation, cover-crop + resize to each size,
/// WEBP q80. Output order = `sizes` order. An empty `sizes` only probes.
pub fn render(bytes: &[u8], sizes: &[Size]) -> Result<Vec<Variant>, MediaError> {
    let probe = probe(bytes)?;
    if sizes.is_empty() {
        return Ok(Vec::new());
    }
    if let Some(s) = sizes.iter().find(|s| s.width == 0 || s.height == 0) {
        return Err(MediaError::Encode(format!("invalid target size {}x{}", s.width, s.height)));
    }
    let (pixels, orientation) = match probe.format {
        Format::Jpeg => decode_jpeg(bytes, &probe, sizes)?,
        Format::Png => decode_with_image(bytes, ImageFormat::Png, &probe)?,
        Format::Webp => decode_webp(bytes, &probe)?,
    };
    let mut resizer = fir::Resizer::new();
    sizes
        .iter()
        .map(|size| {
            // Crop and resize in stored orientation, then orient the small result: the centre
            // crop commutes with rotations/flips and this avoids rotating the big image.
            let (w, h) = if transposes(orientation) { (size.height, size.width) } else { (size.width, size.height) };
            let small = cover(&mut resizer, &pixels, w, h)?;
            let small = orient(small, orientation)?;
            debug_assert_eq!((small.width, small.height), (size.width, size.height));
            Ok(Variant { width: small.width, height: small.height, webp: encode_webp(&small)? })
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Gray,
    Rgb,
    Rgba,
}

impl Layout {
    fn channels(self) -> usize {
        match self {
            Layout::Gray => 1,
            Layout::Rgb => 3,
            Layout::Rgba => 4,
        }
    }

    fn fir(self) -> fir::PixelType {
        match self {
            Layout::Gray => fir::PixelType::U8,
            Layout::Rgb => fir::PixelType::U8x3,
            Layout::Rgba => fir::PixelType::U8x4,
        }
    }
}

/// Tightly packed 8-bit pixels.
struct Pixels {
    width: u32,
    height: u32,
    layout: Layout,
    data: Buf,
}

/// Pixel storage: our own, or libwebp's output buffer used in place (no 36 MB copy).
enum Buf {
    Vec(Vec<u8>),
    Webp(webp::WebPImage),
}

impl std::ops::Deref for Buf {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Buf::Vec(v) => v,
            Buf::Webp(w) => w,
        }
    }
}

impl Buf {
    fn into_vec(self) -> Vec<u8> {
        match self {
            Buf::Vec(v) => v,
            Buf::Webp(w) => w.to_vec(),
        }
    }
}

fn transposes(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// Orientation from a raw EXIF payload, with or without the `Exif\0\0` APP1 prefix.
fn exif_orientation(chunk: &[u8]) -> Orientation {
    let tiff = chunk.strip_prefix(b"Exif\0\0").unwrap_or(chunk);
    Orientation::from_exif_chunk(tiff).unwrap_or(Orientation::NoTransforms)
}

/// Output side length of jpeg-decoder at `scale`/8 (it rounds up).
fn dct_scaled(len: u16, scale: u16) -> u16 {
    ((u32::from(len) * u32::from(scale)).div_ceil(8)) as u16
}

/// Smallest DCT scale (n/8) whose output still covers `need` in both axes; 8 = full size.
fn dct_scale(width: u16, height: u16, need: (u32, u32)) -> u16 {
    [1, 2, 4]
        .into_iter()
        .find(|&s| u32::from(dct_scaled(width, s)) >= need.0 && u32::from(dct_scaled(height, s)) >= need.1)
        .unwrap_or(8)
}

fn decode_jpeg(bytes: &[u8], probe: &Probe, sizes: &[Size]) -> Result<(Pixels, Orientation), MediaError> {
    let corrupt = |e: jpeg_decoder::Error| MediaError::Corrupt(format!("jpeg: {e}"));
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.set_max_decoding_buffer_size(MAX_ALLOC as usize);
    decoder.read_info().map_err(corrupt)?;
    let info = decoder.info().ok_or_else(|| MediaError::Corrupt("jpeg: no frame".into()))?;
    // APP1 precedes SOF in any sane file, so the orientation is known before scaling.
    let early = decoder.exif_data().map(exif_orientation).unwrap_or(Orientation::NoTransforms);
    let mut need = sizes.iter().fold((0, 0), |(w, h), s| (w.max(s.width), h.max(s.height)));
    if transposes(early) {
        need = (need.1, need.0);
    }
    let scale = dct_scale(info.width, info.height, need);
    if scale < 8 && info.width.max(info.height) >= 8 {
        // jpeg-decoder picks the smallest scale meeting the request in EITHER axis. Asking only
        // on the longer axis (where each scale step is a distinct size) forces exactly `scale`.
        let request = if info.width >= info.height {
            (dct_scaled(info.width, scale), u16::MAX)
        } else {
            (u16::MAX, dct_scaled(info.height, scale))
        };
        decoder.scale(request.0, request.1).map_err(corrupt)?;
    }
    let mut data = decoder.decode().map_err(corrupt)?;
    let info = decoder.info().ok_or_else(|| MediaError::Corrupt("jpeg: no frame".into()))?;
    let orientation = decoder.exif_data().map(exif_orientation).unwrap_or(early);
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let count = width as usize * height as usize;
    let layout = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => Layout::Gray,
        jpeg_decoder::PixelFormat::RGB24 => Layout::Rgb,
        jpeg_decoder::PixelFormat::L16 => {
            // Lossless >8-bit JPEG: native-endian u16 samples, keep the high byte.
            data = data.chunks_exact(2).map(|b| (u16::from_ne_bytes([b[0], b[1]]) >> 8) as u8).collect();
            Layout::Gray
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            if data.len() != count * 4 {
                return Err(MediaError::Corrupt("jpeg: short CMYK buffer".into()));
            }
            cmyk_to_rgb_in_place(&mut data);
            Layout::Rgb
        }
    };
    if data.len() != count * layout.channels() {
        return Err(MediaError::Corrupt(format!("jpeg: unexpected buffer size for {width}x{height}")));
    }
    debug_assert!(width <= probe.width && height <= probe.height);
    Ok((Pixels { width, height, layout, data: Buf::Vec(data) }, orientation))
}

/// jpeg-decoder yields ink amounts (0 = no ink; it already undid Adobe's inversion).
/// Packs RGB into the front of the same buffer instead of allocating a second one.
fn cmyk_to_rgb_in_place(data: &mut Vec<u8>) {
    let n = data.len() / 4;
    for i in 0..n {
        let [c, m, y, k] = [data[4 * i], data[4 * i + 1], data[4 * i + 2], data[4 * i + 3]].map(u32::from);
        let ink = |v: u32| ((255 - v) * (255 - k) / 255) as u8;
        data[3 * i] = ink(c);
        data[3 * i + 1] = ink(m);
        data[3 * i + 2] = ink(y);
    }
    data.truncate(n * 3);
    data.shrink_to_fit();
}

fn decode_with_image(bytes: &[u8], format: ImageFormat, probe: &Probe) -> Result<(Pixels, Orientation), MediaError> {
    let too_large = MediaError::TooLarge { width: probe.width, height: probe.height };
    let map = |e: ImageError| match e {
        ImageError::Limits(_) => MediaError::TooLarge { width: probe.width, height: probe.height },
        e => MediaError::Corrupt(e.to_string()),
    };
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(map)?;
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(too_large);
    }
    // Unreadable metadata is not worth failing the upload over.
    let orientation = match decoder.exif_metadata() {
        Ok(Some(exif)) => exif_orientation(&exif),
        _ => Orientation::NoTransforms,
    };
    let image = DynamicImage::from_decoder(decoder).map_err(map)?;
    let (width, height) = (image.width(), image.height());
    let (layout, data) = match image {
        DynamicImage::ImageLuma8(b) => (Layout::Gray, b.into_raw()),
        DynamicImage::ImageRgb8(b) => (Layout::Rgb, b.into_raw()),
        DynamicImage::ImageRgba8(b) => (Layout::Rgba, b.into_raw()),
        other if other.color().has_alpha() => (Layout::Rgba, other.into_rgba8().into_raw()),
        other => (Layout::Rgb, other.into_rgb8().into_raw()),
    };
    Ok((Pixels { width, height, layout, data: Buf::Vec(data) }, orientation))
}

/// Still WEBP through libwebp (several times faster than image-webp on large lossy files);
/// animated WEBP through image-webp, which yields the first frame.
fn decode_webp(bytes: &[u8], probe: &Probe) -> Result<(Pixels, Orientation), MediaError> {
    let features =
        webp::BitstreamFeatures::new(bytes).ok_or_else(|| MediaError::Corrupt("webp: bad bitstream".into()))?;
    if features.has_animation() {
        return decode_with_image(bytes, ImageFormat::WebP, probe);
    }
    // Only the EXIF chunk is read here, no pixels.
    let orientation = image::codecs::webp::WebPDecoder::new(Cursor::new(bytes))
        .and_then(|mut d| d.exif_metadata())
        .ok()
        .flatten()
        .map_or(Orientation::NoTransforms, |exif| exif_orientation(&exif));
    let image = webp::Decoder::new(bytes).decode().ok_or_else(|| MediaError::Corrupt("webp: undecodable".into()))?;
    let layout = if image.is_alpha() { Layout::Rgba } else { Layout::Rgb };
    let (width, height) = (image.width(), image.height());
    if (width, height) != (probe.width, probe.height)
        || image.len() != width as usize * height as usize * layout.channels()
    {
        return Err(MediaError::Corrupt("webp: size differs from header".into()));
    }
    Ok((Pixels { width, height, layout, data: Buf::Webp(image) }, orientation))
}

/// Centre cover crop of `src` resized to exactly `width`×`height` (up or down).
fn cover(resizer: &mut fir::Resizer, src: &Pixels, width: u32, height: u32) -> Result<Pixels, MediaError> {
    let fail = |e: &dyn std::fmt::Display| MediaError::Encode(format!("resize: {e}"));
    let pixel = src.layout.fir();
    let src_image = fir::images::ImageRef::new(src.width, src.height, &src.data, pixel).map_err(|e| fail(&e))?;
    let mut dst = fir::images::Image::new(width, height, pixel);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3))
        .fit_into_destination(Some((0.5, 0.5)));
    resizer.resize(&src_image, &mut dst, &options).map_err(|e| fail(&e))?;
    Ok(Pixels { width, height, layout: src.layout, data: Buf::Vec(dst.into_vec()) })
}

/// Apply the EXIF orientation to a small image; greyscale becomes RGB here (WEBP needs RGB[A]).
fn orient(p: Pixels, orientation: Orientation) -> Result<Pixels, MediaError> {
    let bad = || MediaError::Encode("pixel buffer size mismatch".into());
    let (w, h) = (p.width, p.height);
    let mut image = match p.layout {
        Layout::Gray => DynamicImage::ImageRgb8(
            ImageBuffer::from_raw(w, h, p.data.iter().flat_map(|&v| [v, v, v]).collect()).ok_or_else(bad)?,
        ),
        Layout::Rgb => DynamicImage::ImageRgb8(ImageBuffer::from_raw(w, h, p.data.into_vec()).ok_or_else(bad)?),
        Layout::Rgba => DynamicImage::ImageRgba8(ImageBuffer::from_raw(w, h, p.data.into_vec()).ok_or_else(bad)?),
    };
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    Ok(match image {
        DynamicImage::ImageRgba8(b) => Pixels { width, height, layout: Layout::Rgba, data: Buf::Vec(b.into_raw()) },
        other => Pixels { width, height, layout: Layout::Rgb, data: Buf::Vec(other.into_rgb8().into_raw()) },
    })
}

fn encode_webp(p: &Pixels) -> Result<Vec<u8>, MediaError> {
    let layout = match p.layout {
        Layout::Rgb => webp::PixelLayout::Rgb,
        Layout::Rgba => webp::PixelLayout::Rgba,
        Layout::Gray => return Err(MediaError::Encode("greyscale must be expanded first".into())),
    };
    let memory = webp::Encoder::new(&p.data, layout, p.width, p.height)
        .encode_simple(false, WEBP_QUALITY)
        .map_err(|e| MediaError::Encode(format!("{e:?}")))?;
    Ok(memory.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dct_scale_is_smallest_covering_both_axes() {
        // 4000x3000 → 1/8 = 500x375 covers 440x240.
        assert_eq!(dct_scale(4000, 3000, (440, 240)), 1);
        // Very wide: height decides (500/8 < 240, 500/4 < 240, 500/2 = 250).
        assert_eq!(dct_scale(3000, 500, (440, 240)), 4);
        // Smaller than the target: full size, then scale up.
        assert_eq!(dct_scale(50, 30, (440, 240)), 8);
        // Exactly 8x the target.
        assert_eq!(dct_scale(3520, 1920, (440, 240)), 1);
        assert_eq!(dct_scale(3512, 1920, (440, 240)), 2);
    }

    fn flat_jpeg(width: u16, height: u16) -> Vec<u8> {
        let data = vec![128u8; usize::from(width) * usize::from(height) * 3];
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 80).encode(&data, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    fn decoded_size(bytes: &[u8], sizes: &[Size]) -> (u32, u32) {
        let p = probe(bytes).unwrap();
        let (pixels, _) = decode_jpeg(bytes, &p, sizes).unwrap();
        (pixels.width, pixels.height)
    }

    #[test]
    fn jpeg_is_decoded_at_the_smallest_covering_scale() {
        let both = [CARD, THUMB];
        assert_eq!(decoded_size(&flat_jpeg(4000, 3000), &both), (500, 375));
        assert_eq!(decoded_size(&flat_jpeg(3000, 500), &both), (1500, 250));
        // Tall: the width (500) must stay >= 440, so no scaling at all.
        assert_eq!(decoded_size(&flat_jpeg(500, 3000), &both), (500, 3000));
        assert_eq!(decoded_size(&flat_jpeg(2000, 6000), &both), (500, 1500));
        assert_eq!(decoded_size(&flat_jpeg(1000, 800), &both), (500, 400));
        assert_eq!(decoded_size(&flat_jpeg(1000, 800), &[THUMB]), (125, 100));
        assert_eq!(decoded_size(&flat_jpeg(300, 200), &both), (300, 200));
        // Stored 4000x3000 shown as 3000x4000 (orientation 6): the stored height must cover 440.
        let mut rotated = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 34];
        rotated.extend_from_slice(b"Exif\0\0");
        rotated.extend_from_slice(&[
            b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0,
        ]);
        rotated.extend_from_slice(&flat_jpeg(4000, 3000)[2..]);
        assert_eq!(decoded_size(&rotated, &both), (1000, 750));
    }

    #[test]
    fn dct_scaled_rounds_up_like_jpeg_decoder() {
        assert_eq!(dct_scaled(4000, 1), 500);
        assert_eq!(dct_scaled(4001, 1), 501);
        assert_eq!(dct_scaled(7, 1), 1);
        assert_eq!(dct_scaled(7, 8), 7);
    }

    #[test]
    fn cmyk_conversion_packs_rgb() {
        let mut data = vec![0, 255, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0];
        cmyk_to_rgb_in_place(&mut data);
        assert_eq!(data, vec![255, 0, 0, 0, 0, 0, 255, 255, 255]);
    }

    #[test]
    fn exif_orientation_accepts_both_prefix_forms() {
        let tiff = [b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
        assert_eq!(exif_orientation(&tiff), Orientation::Rotate90);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        assert_eq!(exif_orientation(&app1), Orientation::Rotate90);
        assert_eq!(exif_orientation(b"junk"), Orientation::NoTransforms);
    }
}
