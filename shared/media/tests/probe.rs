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
}

#[test]
fn text_and_unknown_formats_are_unsupported() {
    assert!(matches!(probe(b"just some text, not an image"), Err(MediaError::Unsupported)));
    assert!(matches!(render(b"just some text, not an image", &[CARD]), Err(MediaError::Unsupported)));
    assert!(matches!(probe(b"GIF89a\x01\0\x01\0"), Err(MediaError::Unsupported)));
    assert!(matches!(probe(&[]), Err(MediaError::Unsupported)));
}
