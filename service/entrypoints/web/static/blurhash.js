/*
 * BlurHash decoder: a hash (https://blurha.sh) to RGBA pixels.
 * Written for mPyCloud from the published algorithm; MIT licence, as the project.
 * blurhashDecode(hash, width, height) -> Uint8ClampedArray of width * height * 4 bytes.
 */
(function () {
  "use strict";
  var DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~";

  function decode83(text) {
    var value = 0;
    for (var i = 0; i < text.length; i++) {
      var digit = DIGITS.indexOf(text.charAt(i));
      if (digit < 0) { throw new Error("not a BlurHash"); }
      value = value * 83 + digit;
    }
    return value;
  }

  function toLinear(channel) {
    var v = channel / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  }

  function toSrgb(linear) {
    var v = Math.max(0, Math.min(1, linear));
    var srgb = v <= 0.0031308 ? v * 12.92 : 1.055 * Math.pow(v, 1 / 2.4) - 0.055;
    return Math.floor(srgb * 255 + 0.5);
  }

  function signedSquare(v) {
    return (v < 0 ? -1 : 1) * v * v;
  }

  function decode(hash, width, height) {
    if (typeof hash !== "string" || hash.length < 6) { throw new Error("not a BlurHash"); }
    var sizeFlag = decode83(hash.charAt(0));
    var ny = Math.floor(sizeFlag / 9) + 1;
    var nx = (sizeFlag % 9) + 1;
    if (hash.length !== 4 + 2 * nx * ny) { throw new Error("not a BlurHash"); }
    var maximum = (decode83(hash.charAt(1)) + 1) / 166;
    var colours = [];
    var dc = decode83(hash.substring(2, 6));
    colours.push([toLinear(dc >> 16), toLinear((dc >> 8) & 255), toLinear(dc & 255)]);
    for (var i = 1; i < nx * ny; i++) {
      var ac = decode83(hash.substring(4 + 2 * i, 6 + 2 * i));
      colours.push([
        signedSquare((Math.floor(ac / 361) - 9) / 9) * maximum,
        signedSquare((Math.floor(ac / 19) % 19 - 9) / 9) * maximum,
        signedSquare((ac % 19 - 9) / 9) * maximum
      ]);
    }
    var pixels = new Uint8ClampedArray(width * height * 4);
    for (var y = 0; y < height; y++) {
      for (var x = 0; x < width; x++) {
        var r = 0, g = 0, b = 0;
        for (var j = 0; j < ny; j++) {
          for (var k = 0; k < nx; k++) {
            var basis = Math.cos(Math.PI * x * k / width) * Math.cos(Math.PI * y * j / height);
            var colour = colours[k + j * nx];
            r += colour[0] * basis;
            g += colour[1] * basis;
            b += colour[2] * basis;
          }
        }
        var p = 4 * (x + y * width);
        pixels[p] = toSrgb(r);
        pixels[p + 1] = toSrgb(g);
        pixels[p + 2] = toSrgb(b);
        pixels[p + 3] = 255;
      }
    }
    return pixels;
  }

  window.blurhashDecode = decode;
})();
