//! Geometry, exactly as contract section 4 defines it: great-circle distance by haversine
//! on a sphere of radius 6371.0 km. Also the 3-D unit vectors that the spatial index uses
//! for cheap lower bounds on that distance.

/// The sphere radius of the contract, in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance in km between two points given in degrees (contract formula).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let phi1 = lat1.to_radians();
    let phi2 = lat2.to_radians();
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let s_phi = (d_phi / 2.0).sin();
    let s_lambda = (d_lambda / 2.0).sin();
    let a = s_phi * s_phi + phi1.cos() * phi2.cos() * s_lambda * s_lambda;
    // `min` guards asin against a rounding step past 1.0 for antipodal points.
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// A point on the unit sphere.
pub(crate) type Unit = [f64; 3];

/// The unit vector of a position in degrees.
pub(crate) fn unit_vector(lat: f64, lon: f64) -> Unit {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

/// Straight-line (chord) distance between two unit vectors.
#[inline]
pub(crate) fn chord(a: &Unit, b: &Unit) -> f64 {
    let (dx, dy, dz) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    (dx * dx + dy * dy + dz * dz).sqrt()
}

/// A lower bound in km on the great-circle distance of points whose chord is at least `c`.
///
/// An arc is never shorter than its chord; the small relative and absolute slack absorbs
/// the rounding of both computations, so the bound never exceeds [`haversine_km`].
#[inline]
pub(crate) fn km_lower_bound(c: f64) -> f64 {
    (c * EARTH_RADIUS_KM * (1.0 - 1e-9) - 1e-6).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kassel_to_frankfurt_matches_the_worked_example() {
        // Contract examples, EX-1: 145.914 km.
        let d = haversine_km(51.31667, 9.5, 50.11092, 8.68213);
        assert!((d - 145.914).abs() < 5e-4, "{d}");
    }

    #[test]
    fn distance_is_symmetric_and_zero_on_the_spot() {
        let a = haversine_km(48.13743, 11.57549, 53.55073, 9.99302);
        let b = haversine_km(53.55073, 9.99302, 48.13743, 11.57549);
        assert_eq!(a, b);
        assert_eq!(haversine_km(48.1, 11.5, 48.1, 11.5), 0.0);
    }

    #[test]
    fn antipodes_are_half_the_circumference() {
        let d = haversine_km(0.0, 0.0, 0.0, 180.0);
        assert!((d - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-6);
    }

    #[test]
    fn chord_bound_never_exceeds_the_arc() {
        let pts = [
            (51.31667, 9.5),
            (50.11092, 8.68213),
            (-33.9, 151.2),
            (40.7, -74.0),
            (51.31667, 9.50001),
            (0.0, 180.0),
            (0.0, -180.0),
            (89.9, 0.0),
        ];
        for &(la, lo) in &pts {
            for &(lb, lob) in &pts {
                let arc = haversine_km(la, lo, lb, lob);
                let lb_km = km_lower_bound(chord(&unit_vector(la, lo), &unit_vector(lb, lob)));
                assert!(lb_km <= arc, "{la},{lo} -> {lb},{lob}: {lb_km} > {arc}");
                if arc < 2000.0 {
                    assert!(arc - lb_km < 0.1, "bound too loose: {lb_km} vs {arc}");
                }
            }
        }
    }
}
