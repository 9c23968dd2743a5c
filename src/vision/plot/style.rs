//! Shared colours of the plots.

use image::Rgb;

pub const PAGE: Rgb<u8> = Rgb([255, 255, 255]);
pub const TEXT: Rgb<u8> = Rgb([25, 25, 25]);
pub const WRONG: Rgb<u8> = Rgb([210, 20, 20]);
pub const AXIS: Rgb<u8> = Rgb([60, 60, 60]);
pub const GRID: Rgb<u8> = Rgb([225, 225, 225]);
/// Line colours of successive series (matplotlib's first five).
pub const SERIES: [Rgb<u8>; 5] = [
    Rgb([31, 119, 180]),
    Rgb([255, 127, 14]),
    Rgb([44, 160, 44]),
    Rgb([214, 39, 40]),
    Rgb([148, 103, 189]),
];
