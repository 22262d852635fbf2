//! Compute device selection: `cpu` (default), `cuda[:N]`, or `emu` (the exact profile's GPU kernels emulated on
//! the CPU: tests and experiments, slow), with clear errors when CUDA is unavailable.

use candle_core::Device;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("unknown device `{0}` (expected `cpu`, `cuda`, `cuda:N` or `emu`)")]
    Parse(String),
    #[error("CUDA requested (`{0}`) but this binary was built without CUDA support; rebuild with `--features cuda`")]
    NotCompiled(String),
    #[error("CUDA device {index} is not available: {reason}")]
    Unavailable { index: usize, reason: String },
    #[error("device `emu` emulates the exact profile's GPU kernels: use it with --dtype exact")]
    EmulatorNeedsExact,
}

/// Where the model runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Cuda(usize),
    /// The exact profile's GPU code path on the CPU emulator.
    Emulator,
}

impl FromStr for DeviceSpec {
    type Err = DeviceError;
    fn from_str(s: &str) -> Result<Self, DeviceError> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            "emu" => Ok(DeviceSpec::Emulator),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceSpec::Cuda(n)),
                _ => Err(DeviceError::Parse(s.to_string())),
            },
        }
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceSpec::Emulator => f.write_str("emu"),
        }
    }
}

impl DeviceSpec {
    /// Open the device for candle (the f32 and q4_1 profiles).
    pub fn open(self) -> Result<Device, DeviceError> {
        match self {
            DeviceSpec::Cpu => Ok(Device::Cpu),
            DeviceSpec::Emulator => Err(DeviceError::EmulatorNeedsExact),
            DeviceSpec::Cuda(index) => {
                if !candle_core::utils::cuda_is_available() {
                    return Err(DeviceError::NotCompiled(self.to_string()));
                }
                Device::new_cuda(index).map_err(|e| DeviceError::Unavailable { index, reason: e.to_string() })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_devices() {
        assert_eq!("cpu".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Cpu));
        assert_eq!("cuda".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Cuda(3)));
        assert_eq!("emu".parse::<DeviceSpec>().ok(), Some(DeviceSpec::Emulator));
        for d in [DeviceSpec::Cpu, DeviceSpec::Cuda(2), DeviceSpec::Emulator] {
            assert_eq!(d.to_string().parse::<DeviceSpec>().ok(), Some(d));
        }
        assert!(matches!(DeviceSpec::Emulator.open(), Err(DeviceError::EmulatorNeedsExact)));
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", ""] {
            assert!(matches!(bad.parse::<DeviceSpec>(), Err(DeviceError::Parse(_))), "{bad}");
        }
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_is_a_clear_error() {
        let err = DeviceSpec::Cuda(0).open().unwrap_err();
        assert!(matches!(err, DeviceError::NotCompiled(_)));
        assert!(err.to_string().contains("--features cuda"), "{err}");
    }
}
