//! Fixtures built in memory: nothing binary is committed.
#![allow(dead_code)]

use std::io::Cursor;

use image::{DynamicImage, ImageEncoder, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

pub const RED: [u8; 3] = [230, 20, 20];
pub const GREEN: [u8; 3] = [20, 200, 20];
pub const BLUE: [u8; 3] = [20, 20, 230];
pub const YELLOW: [u8; 3] = [230, 220, 20];

/// Baseline JPEG, 4:2:0 (what cameras write).
pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    enc.encode(img.as_raw(), img.width() as u16, img.height() as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

pub fn jpeg_gray(width: u16, height: u16, f: impl Fn(u32, u32) -> u8) -> Vec<u8> {
    let data: Vec<u8> =
        (0..u32::from(height)).flat_map(|y| (0..u32::from(width)).map(move |x| (x, y))).map(|(x, y)| f(x, y)).collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90).encode(&data, width, height, jpeg_encoder::ColorType::Luma).unwrap();
    out
}

/// Adobe CMYK JPEG (jpeg-encoder stores it inverted, with an APP14 marker), ink values in.
pub fn jpeg_cmyk(width: u16, height: u16, ink: [u8; 4]) -> Vec<u8> {
    let data: Vec<u8> = ink.iter().copied().cycle().take(usize::from(width) * usize::from(height) * 4).collect();
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90).encode(&data, width, height, jpeg_encoder::ColorType::Cmyk).unwrap();
    out
}

/// TIFF payload (what follows `Exif\0\0`) with IFD0 holding only the orientation tag.
pub fn exif_tiff(orientation: u16, big_endian: bool) -> Vec<u8> {
    let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut t = Vec::new();
    t.extend_from_slice(if big_endian { b"MM" } else { b"II" });
    t.extend_from_slice(&u16b(42));
    t.extend_from_slice(&u32b(8)); // IFD0 right after the header
    t.extend_from_slice(&u16b(1)); // one entry
    t.extend_from_slice(&u16b(0x0112)); // Orientation
    t.extend_from_slice(&u16b(3)); // SHORT
    t.extend_from_slice(&u32b(1)); // count
    t.extend_from_slice(&u16b(orientation));
    t.extend_from_slice(&[0, 0]); // value padding
    t.extend_from_slice(&u32b(0)); // no next IFD
    t
}

/// Splices an APP1 Exif segment in right after SOI.
pub fn with_exif(jpeg: &[u8], orientation: u16, big_endian: bool) -> Vec<u8> {
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif_tiff(orientation, big_endian));
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Fast compression: fixtures only need to be valid, and tests run unoptimised.
pub fn png(img: &DynamicImage) -> Vec<u8> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let mut out = Vec::new();
    let enc = PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::NoFilter);
    enc.write_image(img.as_bytes(), img.width(), img.height(), img.color().into()).unwrap();
    out
}

pub fn png_with_exif(img: &RgbImage, exif: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut out);
    enc.set_exif_metadata(exif).unwrap();
    enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).unwrap();
    out
}

/// Lossless WEBP from the image crate's encoder.
pub fn webp_lossless(img: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::WebP).unwrap();
    out.into_inner()
}

pub fn rgb(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb(f(x, y)))
}

pub fn rgba(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| Rgba(f(x, y)))
}

/// Smooth content with some texture, so encoders do real work.
pub fn gradient(width: u32, height: u32) -> RgbImage {
    rgb(width, height, |x, y| {
        let n = ((x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)) >> 13) as u8 & 15;
        [(x * 255 / width.max(1)) as u8 ^ n, (y * 255 / height.max(1)) as u8, 128u8.wrapping_add(n)]
    })
}

/// Checks the RIFF/WEBP magic, decodes, and returns the image.
pub fn decode_webp(bytes: &[u8]) -> DynamicImage {
    assert!(bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP", "not a WEBP");
    image::load_from_memory_with_format(bytes, ImageFormat::WebP).expect("output decodes as WEBP")
}

/// Near a reference colour (lossy JPEG + lossy WEBP on both ends).
pub fn near(px: [u8; 3], want: [u8; 3]) -> bool {
    px.iter().zip(want).all(|(&a, b)| (i32::from(a) - i32::from(b)).abs() <= 48)
}

pub fn px(img: &DynamicImage, x: u32, y: u32) -> [u8; 3] {
    let p = img.to_rgb8();
    p.get_pixel(x, y).0
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// PNG signature + a valid IHDR (correct CRC) claiming `width`×`height`, and nothing else.
pub fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out
}

/// SOI + a baseline SOF0 claiming `width`×`height` (YCbCr 4:2:0), and nothing else.
pub fn jpeg_sof_header(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
    out
}

fn riff(chunk: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&((4 + 8 + payload.len()) as u32).to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(chunk);
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// RIFF/WEBP with only an extended-format (VP8X) header claiming `width`×`height`.
pub fn webp_vp8x_header(width: u32, height: u32) -> Vec<u8> {
    let mut p = vec![0u8; 4];
    p.extend_from_slice(&(width - 1).to_le_bytes()[..3]);
    p.extend_from_slice(&(height - 1).to_le_bytes()[..3]);
    riff(b"VP8X", &p)
}

/// RIFF/WEBP with only a lossless (VP8L) header claiming `width`×`height` (max 16384).
pub fn webp_vp8l_header(width: u32, height: u32) -> Vec<u8> {
    let bits = (width - 1) | ((height - 1) << 14);
    let mut p = vec![0x2F];
    p.extend_from_slice(&bits.to_le_bytes());
    riff(b"VP8L", &p)
}
