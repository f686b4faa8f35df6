mod common;

use common::*;
use image::{DynamicImage, GenericImageView};
use moim_media::{render, Size, CARD, THUMB};
use proptest::prelude::*;

const SOURCE_SIZES: [(u32, u32); 5] = [(1000, 800), (50, 30), (3000, 500), (500, 3000), (1, 1)];

/// Renders CARD + THUMB and checks both outputs are WEBP of the exact sizes.
fn render_checked(bytes: &[u8]) -> (DynamicImage, DynamicImage) {
    let out = render(bytes, &[CARD, THUMB]).expect("render");
    assert_eq!(out.len(), 2);
    let card = decode_webp(&out[0].webp);
    let thumb = decode_webp(&out[1].webp);
    assert_eq!((out[0].width, out[0].height), (440, 240));
    assert_eq!(card.dimensions(), (440, 240));
    assert_eq!((out[1].width, out[1].height), (100, 100));
    assert_eq!(thumb.dimensions(), (100, 100));
    (card, thumb)
}

#[test]
fn jpeg_sources_give_exact_sizes() {
    for (w, h) in SOURCE_SIZES {
        render_checked(&jpeg(&gradient(w, h), 90));
    }
}

#[test]
fn png_rgb_sources_give_exact_sizes() {
    for (w, h) in SOURCE_SIZES {
        render_checked(&png(&gradient(w, h).into()));
    }
}

#[test]
fn png_rgba_sources_give_exact_sizes() {
    for (w, h) in SOURCE_SIZES {
        let img = rgba(w, h, |x, y| [(x % 256) as u8, (y % 256) as u8, 90, if x < w / 2 { 255 } else { 0 }]);
        render_checked(&png(&img.into()));
    }
}

#[test]
fn webp_sources_give_exact_sizes() {
    for (w, h) in SOURCE_SIZES {
        render_checked(&webp_lossless(&gradient(w, h).into()));
    }
}

#[test]
fn lossy_webp_source_via_libwebp() {
    let img = gradient(1200, 900);
    let lossy = webp::Encoder::from_rgb(img.as_raw(), 1200, 900).encode(90.0).to_vec();
    render_checked(&lossy);
}

#[test]
fn output_order_follows_sizes_and_any_size_works() {
    let bytes = jpeg(&gradient(800, 600), 90);
    let sizes = [THUMB, Size { width: 1, height: 1 }, CARD, Size { width: 1000, height: 50 }];
    let out = render(&bytes, &sizes).unwrap();
    assert_eq!(out.len(), sizes.len());
    for (v, s) in out.iter().zip(sizes) {
        assert_eq!((v.width, v.height), (s.width, s.height));
        assert_eq!(decode_webp(&v.webp).dimensions(), (s.width, s.height));
    }
    assert!(render(&bytes, &[]).unwrap().is_empty());
    assert!(matches!(render(&bytes, &[Size { width: 0, height: 10 }]), Err(moim_media::MediaError::Encode(_))));
}

/// Blue | red | blue in thirds-ish: the centre of every cover crop is red, the outer columns of the
/// card (which keeps the full width of a 1000x800 source) are blue.
#[test]
fn cover_crop_keeps_the_centre() {
    let src = rgb(1000, 800, |x, _| if (250..750).contains(&x) { RED } else { BLUE });
    for bytes in [jpeg(&src, 95), png(&src.clone().into())] {
        let (card, thumb) = render_checked(&bytes);
        assert!(near(px(&card, 220, 120), RED));
        assert!(near(px(&card, 10, 120), BLUE), "{:?}", px(&card, 10, 120));
        assert!(near(px(&card, 430, 120), BLUE));
        // Thumb crop is x 100..900: 150 px of blue each side out of 800 → about 19 output px.
        assert!(near(px(&thumb, 50, 50), RED));
        assert!(near(px(&thumb, 5, 50), BLUE));
        assert!(near(px(&thumb, 95, 50), BLUE));
    }
}

/// 3000x500: red | green | blue | red with the split at x = 1500. A centred crop sees only
/// green | blue; a crop from the left edge would see red.
#[test]
fn cover_crop_of_a_wide_image_is_centred() {
    let src = rgb(3000, 500, |x, _| match x {
        0..800 => RED,
        800..1500 => GREEN,
        1500..2200 => BLUE,
        _ => RED,
    });
    for bytes in [jpeg(&src, 95), png(&src.clone().into()), webp_lossless(&src.clone().into())] {
        let (card, thumb) = render_checked(&bytes);
        assert!(near(px(&card, 5, 120), GREEN), "{:?}", px(&card, 5, 120));
        assert!(near(px(&card, 200, 120), GREEN));
        assert!(near(px(&card, 240, 120), BLUE));
        assert!(near(px(&card, 434, 120), BLUE));
        assert!(near(px(&thumb, 5, 50), GREEN));
        assert!(near(px(&thumb, 45, 50), GREEN));
        assert!(near(px(&thumb, 55, 50), BLUE));
        assert!(near(px(&thumb, 95, 50), BLUE));
    }
}

#[test]
fn tall_image_keeps_the_vertical_centre() {
    let src = rgb(500, 3000, |_, y| if (1300..1700).contains(&y) { GREEN } else { RED });
    let (card, thumb) = render_checked(&jpeg(&src, 95));
    // Card crop is y 1363..1637: all green. Thumb crop is y 1250..1750: red top and bottom.
    for (x, y) in [(5, 5), (220, 120), (434, 234)] {
        assert!(near(px(&card, x, y), GREEN), "{:?} at {x},{y}", px(&card, x, y));
    }
    assert!(near(px(&thumb, 50, 50), GREEN));
    assert!(near(px(&thumb, 50, 3), RED));
}

#[test]
fn small_sources_are_scaled_up() {
    let src = rgb(50, 30, |x, _| if x < 25 { RED } else { BLUE });
    let (card, thumb) = render_checked(&png(&src.into()));
    assert!(near(px(&card, 100, 120), RED));
    assert!(near(px(&card, 340, 120), BLUE));
    assert!(near(px(&thumb, 20, 50), RED));
    assert!(near(px(&thumb, 80, 50), BLUE));
}

/// Upright picture: 600x900 portrait, quadrants TL red, TR green, BL blue, BR yellow.
fn upright(x: u32, y: u32) -> [u8; 3] {
    match (x < 300, y < 450) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => YELLOW,
    }
}

/// Pixels as a camera would store them for EXIF `orientation`, from the spec's definitions:
/// maps a stored pixel (sx, sy) of a sw×sh buffer to its display position.
fn stored(orientation: u16) -> image::RgbImage {
    let (w, h) = (600u32, 900u32);
    let (sw, sh) = if orientation >= 5 { (h, w) } else { (w, h) };
    rgb(sw, sh, |sx, sy| {
        let (dx, dy) = match orientation {
            1 => (sx, sy),
            2 => (sw - 1 - sx, sy),          // mirrored horizontally
            3 => (sw - 1 - sx, sh - 1 - sy), // rotated 180
            4 => (sx, sh - 1 - sy),          // mirrored vertically
            5 => (sy, sx),                   // transposed
            6 => (sh - 1 - sy, sx),          // needs 90° clockwise
            7 => (sh - 1 - sy, sw - 1 - sx), // transversed
            8 => (sy, sw - 1 - sx),          // needs 90° counter-clockwise
            _ => unreachable!(),
        };
        upright(dx, dy)
    })
}

fn assert_upright(card: &DynamicImage, thumb: &DynamicImage, what: &str) {
    // Card: crop 600x327 across the middle, so the top half shows the upper quadrants.
    for (x, y, want, name) in
        [(110, 60, RED, "TL"), (330, 60, GREEN, "TR"), (110, 180, BLUE, "BL"), (330, 180, YELLOW, "BR")]
    {
        assert!(near(px(card, x, y), want), "{what}: card {name} is {:?}", px(card, x, y));
    }
    for (x, y, want, name) in [(25, 25, RED, "TL"), (75, 25, GREEN, "TR"), (25, 75, BLUE, "BL"), (75, 75, YELLOW, "BR")]
    {
        assert!(near(px(thumb, x, y), want), "{what}: thumb {name} is {:?}", px(thumb, x, y));
    }
}

#[test]
fn exif_orientation_all_eight_in_jpeg() {
    for orientation in 1..=8u16 {
        let big_endian = orientation % 2 == 0;
        let bytes = with_exif(&jpeg(&stored(orientation), 95), orientation, big_endian);
        let (card, thumb) = render_checked(&bytes);
        assert_upright(&card, &thumb, &format!("jpeg orientation {orientation}"));
    }
}

#[test]
fn stored_sideways_without_exif_stays_sideways() {
    // Control for the test above: the fixture really is sideways without the tag.
    let (card, _) = render_checked(&jpeg(&stored(6), 95));
    assert!(!near(px(&card, 110, 60), RED));
}

#[test]
fn exif_orientation_in_png_and_webp() {
    for orientation in [3u16, 6, 8, 5] {
        let src = stored(orientation);
        let bytes = png_with_exif(&src, exif_tiff(orientation, true));
        let (card, thumb) = render_checked(&bytes);
        assert_upright(&card, &thumb, &format!("png orientation {orientation}"));

        let mut webp = Vec::new();
        let mut enc = image::codecs::webp::WebPEncoder::new_lossless(&mut webp);
        image::ImageEncoder::set_exif_metadata(&mut enc, exif_tiff(orientation, false)).unwrap();
        image::ImageEncoder::write_image(enc, src.as_raw(), src.width(), src.height(), image::ExtendedColorType::Rgb8)
            .unwrap();
        let (card, thumb) = render_checked(&webp);
        assert_upright(&card, &thumb, &format!("webp orientation {orientation}"));
    }
}

#[test]
fn grayscale_jpeg() {
    let bytes = jpeg_gray(800, 600, |x, _| if x < 400 { 20 } else { 235 });
    let (card, _) = render_checked(&bytes);
    let [r, g, b] = px(&card, 50, 120);
    assert!(r < 60 && g < 60 && b < 60);
    let [r, g, b] = px(&card, 390, 120);
    assert!(r > 200 && g > 200 && b > 200);
}

#[test]
fn cmyk_jpeg_becomes_rgb() {
    // Magenta + yellow ink, no cyan, no black: red.
    let (card, thumb) = render_checked(&jpeg_cmyk(640, 480, [0, 255, 255, 0]));
    assert!(near(px(&card, 220, 120), [255, 0, 0]), "{:?}", px(&card, 220, 120));
    assert!(near(px(&thumb, 50, 50), [255, 0, 0]));
    // Full black ink.
    let (card, _) = render_checked(&jpeg_cmyk(64, 48, [0, 0, 0, 255]));
    assert!(near(px(&card, 220, 120), [0, 0, 0]));
}

#[test]
fn rgba_png_keeps_transparency() {
    let src = rgba(800, 600, |x, _| if x < 400 { [200, 30, 30, 255] } else { [0, 0, 0, 0] });
    let (card, _) = render_checked(&png(&src.into()));
    assert!(card.color().has_alpha());
    let card = card.to_rgba8();
    assert_eq!(card.get_pixel(20, 120).0[3], 255);
    assert!(near([card.get_pixel(20, 120).0[0], card.get_pixel(20, 120).0[1], 30], [200, 30, 30]));
    assert!(card.get_pixel(420, 120).0[3] < 10);
}

#[test]
fn other_png_pixel_types() {
    let gray = DynamicImage::ImageLuma8(image::GrayImage::from_fn(300, 200, |x, _| image::Luma([(x % 256) as u8])));
    render_checked(&png(&gray));
    let gray_alpha = DynamicImage::ImageLumaA8(image::GrayAlphaImage::from_fn(300, 200, |x, _| {
        image::LumaA([(x % 256) as u8, 128])
    }));
    render_checked(&png(&gray_alpha));
    let deep =
        DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(300, 200, |x, _| image::Rgb([x as u16 * 200, 0, 65535])));
    let (card, _) = render_checked(&png(&deep));
    assert!(px(&card, 220, 120)[2] > 200);
}

#[test]
fn animated_webp_uses_the_first_frame() {
    let red: Vec<u8> = [230, 20, 20, 255].repeat(320 * 240);
    let blue: Vec<u8> = [20, 20, 230, 255].repeat(320 * 240);
    let config = webp::WebPConfig::new().unwrap();
    let mut enc = webp::AnimEncoder::new(320, 240, &config);
    enc.add_frame(webp::AnimFrame::from_rgba(&red, 320, 240, 0));
    enc.add_frame(webp::AnimFrame::from_rgba(&blue, 320, 240, 100));
    let bytes = enc.try_encode().unwrap().to_vec();
    let (card, _) = render_checked(&bytes);
    assert!(near(px(&card, 220, 120), RED), "{:?}", px(&card, 220, 120));
}

#[test]
fn progressive_jpeg() {
    let img = gradient(1200, 900);
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(true);
    enc.encode(img.as_raw(), 1200, 900, jpeg_encoder::ColorType::Rgb).unwrap();
    render_checked(&out);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn output_sizes_are_exact(w in 1u32..2000, h in 1u32..2000, kind in 0u8..3, orientation in 1u16..=8) {
        // kind 0: PNG (full decode, resize from full size); else JPEG (DCT scaling, EXIF orientation).
        // Flat content keeps the fixture cheap to build; size handling is what is tested.
        let src = rgb(w, h, |x, y| [(x % 251) as u8, (y % 241) as u8, 77]);
        let bytes = if kind == 0 { png(&src.into()) } else { with_exif(&jpeg(&src, 80), orientation, true) };
        render_checked(&bytes);
    }
}
