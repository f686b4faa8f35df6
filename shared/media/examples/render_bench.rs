//! Image pipeline benchmark (driven by bench/image-bench.sh).
//!
//! ```text
//! render_bench make-fixtures DIR          # 4000x3000 JPEG (q90 4:2:0, baseline + progressive), PNG, WEBP q90
//! render_bench render FILE [--runs N]     # render(bytes, [CARD, THUMB]) N times (+1 warm-up if N > 1)
//! ```
//! `render` prints one `run_ms=` line per timed run, then a `summary` line with the median, the
//! minimum and the CPU time per run (user+sys of the whole process, all threads).

use std::path::Path;
use std::time::Instant;

use moim_media::{render, CARD, THUMB};

const W: u32 = 4000;
const H: u32 = 3000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("make-fixtures") if args.len() == 2 => make_fixtures(Path::new(&args[1])),
        Some("render") if args.len() >= 2 => {
            let runs = match args.get(2).map(String::as_str) {
                Some("--runs") => args.get(3).and_then(|n| n.parse().ok()).unwrap_or_else(|| usage()),
                None => 1,
                Some(_) => usage(),
            };
            bench(Path::new(&args[1]), runs)
        }
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("usage: render_bench make-fixtures DIR | render FILE [--runs N]");
    std::process::exit(2)
}

/// xorshift64*: reproducible noise without a rand dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    /// Approximately N(0, 1) (Irwin–Hall, 4 uniforms).
    fn gauss(&mut self) -> f32 {
        ((self.unit() + self.unit() + self.unit() + self.unit()) - 2.0) * 1.732
    }
}

/// Gradients + Gaussian noise + solid blocks, as in TOOLING.md §4: noisy, so a worst case for
/// entropy decoding.
fn photo() -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // 40 random blocks of flat colour.
    let blocks: Vec<(u32, u32, u32, u32, [f32; 3])> = (0..40)
        .map(|_| {
            let (bw, bh) = (100 + (rng.next() % 700) as u32, 100 + (rng.next() % 500) as u32);
            let (bx, by) = ((rng.next() % u64::from(W - bw)) as u32, (rng.next() % u64::from(H - bh)) as u32);
            (bx, by, bw, bh, [rng.unit() * 255.0, rng.unit() * 255.0, rng.unit() * 255.0])
        })
        .collect();
    let mut data = Vec::with_capacity((W * H * 3) as usize);
    for y in 0..H {
        for x in 0..W {
            let (fx, fy) = (x as f32 / W as f32, y as f32 / H as f32);
            let mut c = [255.0 * fx, 255.0 * fy, 255.0 * (1.0 - fx) * (0.5 + 0.5 * (fy * 12.0).sin())];
            if let Some(b) = blocks.iter().rev().find(|b| x >= b.0 && x < b.0 + b.2 && y >= b.1 && y < b.1 + b.3) {
                c = b.4;
            }
            for v in c {
                data.push((v + 12.0 * rng.gauss()).clamp(0.0, 255.0) as u8);
            }
        }
    }
    data
}

fn make_fixtures(dir: &Path) {
    std::fs::create_dir_all(dir).expect("create fixture dir");
    let t = Instant::now();
    let rgb = photo();
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).expect("write fixture");
        println!("{name}: {} bytes", bytes.len());
    };

    for (name, progressive) in [("photo-4000x3000.jpg", false), ("photo-4000x3000-progressive.jpg", true)] {
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 90);
        enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        enc.set_progressive(progressive);
        enc.encode(&rgb, W as u16, H as u16, jpeg_encoder::ColorType::Rgb).expect("jpeg encode");
        write(name, &out);
    }

    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new(&mut png),
        &rgb,
        W,
        H,
        image::ExtendedColorType::Rgb8,
    )
    .expect("png encode");
    write("photo-4000x3000.png", &png);

    let webp = webp::Encoder::from_rgb(&rgb, W, H).encode_simple(false, 90.0).expect("webp encode");
    write("photo-4000x3000.webp", &webp);
    eprintln!("fixtures in {:.1}s", t.elapsed().as_secs_f64());
}

/// user+sys CPU seconds of this process so far (all threads, live and exited).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

fn bench(file: &Path, runs: usize) {
    let bytes = std::fs::read(file).expect("read input");
    let once = || {
        let out = render(&bytes, &[CARD, THUMB]).expect("render");
        std::hint::black_box(out.iter().map(|v| v.webp.len()).sum::<usize>())
    };
    if runs > 1 {
        once(); // warm-up: page in code, allocator arenas
    }
    let cpu0 = cpu_seconds();
    let mut ms: Vec<f64> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            once();
            let v = t.elapsed().as_secs_f64() * 1e3;
            println!("run_ms={v:.2}");
            v
        })
        .collect();
    let cpu_ms = match (cpu0, cpu_seconds()) {
        (Some(a), Some(b)) => format!("{:.1}", (b - a) * 1e3 / ms.len() as f64),
        _ => "n/a".into(),
    };
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let median = if n % 2 == 1 { ms[n / 2] } else { (ms[n / 2 - 1] + ms[n / 2]) / 2.0 };
    println!("summary median_ms={median:.2} min_ms={:.2} cpu_ms_per_run={cpu_ms} runs={n}", ms[0]);
}
