mod common;

use std::time::{Duration, Instant};

use common::*;
use moim_media::{probe, render, sniff, Format, MediaError, Probe, CARD, MAX_PIXELS, MAX_SIDE, THUMB};

#[test]
fn sniff_uses_magic_bytes_only() {
    let img = gradient(16, 16);
    assert_eq!(sniff(&jpeg(&img, 90)), Some(Format::Jpeg));
    assert_eq!(sniff(&png(&img.clone().into())), Some(Format::Png));
    assert_eq!(sniff(&webp_lossless(&img.into())), Some(Format::Webp));
    // A PNG uploaded as "photo.jpg" is still a PNG: names are the caller's business.
    assert_eq!(sniff(&png_header(10, 10)), Some(Format::Png));
    assert_eq!(sniff(b"hello, this is text\n"), None);
    assert_eq!(sniff(b"GIF89a...."), None);
    assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
    assert_eq!(sniff(b"RIFF\0\0\0\0WEB"), None);
    assert_eq!(sniff(&[0xFF, 0xD8]), None);
    assert_eq!(sniff(&[]), None);
}

#[test]
fn format_mime_and_extension() {
    assert_eq!((Format::Jpeg.mime(), Format::Jpeg.extension()), ("image/jpeg", "jpg"));
    assert_eq!((Format::Png.mime(), Format::Png.extension()), ("image/png", "png"));
    assert_eq!((Format::Webp.mime(), Format::Webp.extension()), ("image/webp", "webp"));
}

#[test]
fn probe_reads_real_headers() {
    let img = gradient(321, 123);
    assert_eq!(probe(&jpeg(&img, 90)).unwrap(), Probe { format: Format::Jpeg, width: 321, height: 123 });
    assert_eq!(probe(&png(&img.clone().into())).unwrap(), Probe { format: Format::Png, width: 321, height: 123 });
    assert_eq!(probe(&webp_lossless(&img.into())).unwrap(), Probe { format: Format::Webp, width: 321, height: 123 });
}

#[test]
fn probe_reads_every_webp_header_kind() {
    let img = gradient(301, 203);
    // VP8 (lossy), VP8L (lossless), VP8X (extended: here because of the EXIF chunk).
    let lossy = webp::Encoder::from_rgb(img.as_raw(), 301, 203).encode(80.0).to_vec();
    assert_eq!(&lossy[12..16], b"VP8 ");
    let lossless = webp_lossless(&img.clone().into());
    assert_eq!(&lossless[12..16], b"VP8L");
    let mut extended = Vec::new();
    let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut extended);
    image::ImageEncoder::set_exif_metadata(&mut enc, exif_tiff(1, true)).unwrap();
    image::ImageEncoder::write_image(enc, img.as_raw(), 301, 203, image::ExtendedColorType::Rgb8).unwrap();
    assert_eq!(&extended[12..16], b"VP8X");
    for bytes in [lossy, lossless, extended] {
        assert_eq!(probe(&bytes).unwrap(), Probe { format: Format::Webp, width: 301, height: 203 });
    }
}

#[test]
fn probe_header_only_webp_bombs_are_too_large() {
    let err = probe(&webp_vp8x_header(16000, 16000)).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 16000, height: 16000 }), "{err:?}");
    let err = render(&webp_vp8l_header(16384, 3000), &[CARD]).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 16384, height: 3000 }), "{err:?}");
    // Within limits but no image data: refused while decoding.
    let err = render(&webp_vp8x_header(100, 100), &[CARD]).unwrap_err();
    assert!(matches!(err, MediaError::Corrupt(_)), "{err:?}");
}

#[test]
fn probe_header_only_png_30000_square_is_too_large_and_fast() {
    let header = png_header(30000, 30000);
    let start = Instant::now();
    let err = probe(&header).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 30000, height: 30000 }), "{err:?}");
    assert!(start.elapsed() < Duration::from_millis(50));
}

#[test]
fn render_of_huge_header_fails_from_probe_without_decoding() {
    // No IDAT at all: anything past the header check would be Corrupt, not TooLarge.
    let start = Instant::now();
    let err = render(&png_header(30000, 30000), &[CARD, THUMB]).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 30000, height: 30000 }), "{err:?}");
    let err = render(&jpeg_sof_header(30000, 30000), &[CARD, THUMB]).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { .. }), "{err:?}");
    assert!(start.elapsed() < Duration::from_millis(50));
}

#[test]
fn probe_jpeg_side_limit() {
    let err = probe(&jpeg_sof_header(9000, 100)).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 9000, height: 100 }), "{err:?}");
    let err = probe(&jpeg_sof_header(100, 8001)).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 100, height: 8001 }), "{err:?}");
    let ok = probe(&jpeg_sof_header(MAX_SIDE as u16, 100)).unwrap();
    assert_eq!((ok.width, ok.height), (MAX_SIDE, 100));
}

#[test]
fn probe_pixel_limit() {
    // 49 MP with both sides under MAX_SIDE.
    let err = probe(&jpeg_sof_header(7000, 7000)).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { width: 7000, height: 7000 }), "{err:?}");
    let err = probe(&png_header(7000, 7000)).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { .. }), "{err:?}");
    // Exactly MAX_PIXELS is allowed; one row more is not.
    assert_eq!(8000 * 5000, MAX_PIXELS);
    assert!(probe(&png_header(8000, 5000)).is_ok());
    assert!(matches!(probe(&png_header(8000, 5001)), Err(MediaError::TooLarge { .. })));
}

#[test]
fn truncated_jpeg_is_corrupt() {
    let full = jpeg(&gradient(640, 480), 90);
    let err = render(&full[..200], &[CARD, THUMB]).unwrap_err();
    assert!(matches!(err, MediaError::Corrupt(_)), "{err:?}");
    // Header intact, entropy data cut off.
    let err = render(&full[..full.len() / 2], &[CARD, THUMB]);
    assert!(matches!(err, Err(MediaError::Corrupt(_))), "{err:?}");
}

#[test]
fn png_header_without_data_is_corrupt() {
    let err = render(&png_header(640, 480), &[CARD]).unwrap_err();
    assert!(matches!(err, MediaError::Corrupt(_)), "{err:?}");
    let full = png(&gradient(640, 480).into());
    let err = render(&full[..full.len() / 2], &[CARD]).unwrap_err();
    assert!(matches!(err, MediaError::Corrupt(_)), "{err:?}");
}

#[test]
fn broken_headers_are_corrupt() {
    assert!(matches!(probe(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00]), Err(MediaError::Corrupt(_))));
    assert!(matches!(probe(&png_header(10, 10)[..20]), Err(MediaError::Corrupt(_))));
    assert!(matches!(probe(&png_header(0, 10)), Err(MediaError::Corrupt(_))));
    assert!(matches!(probe(b"RIFF\x10\0\0\0WEBPVP8 junk"), Err(MediaError::Corrupt(_))));
    assert!(matches!(
        probe(b"RIFF\x10\0\0\0WEBPVP8 \x0a\0\0\0\0\0\0\x11\x22\x33\x01\0\x01\0"),
        Err(MediaError::Corrupt(_))
    ));
    assert!(matches!(probe(b"RIFF\x10\0\0\0WEBPJUNK\x0a\0\0\0\0\0\0\0\0\0\0\0\0\0"), Err(MediaError::Corrupt(_))));
}

#[test]
fn text_and_unknown_formats_are_unsupported() {
    assert!(matches!(probe(b"just some text, not an image"), Err(MediaError::Unsupported)));
    assert!(matches!(render(b"just some text, not an image", &[CARD]), Err(MediaError::Unsupported)));
    assert!(matches!(probe(b"GIF89a\x01\0\x01\0"), Err(MediaError::Unsupported)));
    assert!(matches!(probe(&[]), Err(MediaError::Unsupported)));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// Damaged uploads are refused with an error (or, if still decodable, rendered), never a panic.
    #[test]
    fn damaged_files_never_panic(
        kind in 0usize..5,
        flips in proptest::collection::vec((0.0f64..1.0, proptest::prelude::any::<u8>()), 1..8),
        cut in 0.3f64..1.6, // >= 1.0: not truncated
    ) {
        let img = gradient(67, 45);
        let mut bytes = match kind {
            0 => jpeg(&img, 85),
            1 => with_exif(&jpeg(&img, 85), 6, false),
            2 => png(&img.clone().into()),
            3 => webp_lossless(&img.clone().into()),
            _ => webp::Encoder::from_rgb(img.as_raw(), 67, 45).encode(80.0).to_vec(),
        };
        for (at, value) in flips {
            // Keep the magic bytes so the decoders, not sniff, see the damage.
            let last = bytes.len() - 1;
            let i = 12 + ((bytes.len() - 12) as f64 * at) as usize;
            bytes[i.min(last)] = value;
        }
        bytes.truncate(((bytes.len() as f64 * cut.min(1.0)) as usize).max(12));
        if let Ok(out) = render(&bytes, &[CARD, THUMB]) {
            proptest::prop_assert_eq!((out[0].width, out[0].height), (440, 240));
        }
    }
}
